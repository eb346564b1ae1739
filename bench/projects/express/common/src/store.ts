export type OrderStatus = "open" | "paid" | "shipped" | "cancelled";

export interface Order {
  id: number;
  customer: string;
  items: { sku: string; quantity: number }[];
  status: OrderStatus;
  createdAt: string;
}

/** Orders kept in memory: enough for a demo service. */
export class OrderStore {
  private orders = new Map<number, Order>();
  private nextId = 1;

  list(status?: OrderStatus): Order[] {
    const all = [...this.orders.values()];
    return status ? all.filter((order) => order.status === status) : all;
  }

  get(id: number): Order | undefined {
    return this.orders.get(id);
  }

  create(customer: string, items: Order["items"]): Order {
    const order: Order = {
      id: this.nextId++,
      customer,
      items,
      status: "open",
      createdAt: new Date().toISOString(),
    };
    this.orders.set(order.id, order);
    return order;
  }

  setStatus(id: number, status: OrderStatus): Order | undefined {
    const order = this.orders.get(id);
    if (order) {
      order.status = status;
    }
    return order;
  }
}
