import { Router, Request, Response } from "express";
import { OrderStatus, OrderStore } from "../store";

const statuses: OrderStatus[] = ["open", "paid", "shipped", "cancelled"];

export function ordersRouter(store: OrderStore): Router {
  const router = Router();

  router.get("/", (req: Request, res: Response) => {
    const status = req.query.status as OrderStatus | undefined;
    if (status && !statuses.includes(status)) {
      res.status(400).json({ error: `unknown status ${status}` });
      return;
    }
    res.json(store.list(status));
  });

  router.get("/:id", (req: Request, res: Response) => {
    const order = store.get(Number(req.params.id));
    if (!order) {
      res.status(404).json({ error: "no such order" });
      return;
    }
    res.json(order);
  });

  router.post("/", (req: Request, res: Response) => {
    const { customer, items } = req.body ?? {};
    if (typeof customer !== "string" || !Array.isArray(items) || items.length === 0) {
      res.status(400).json({ error: "customer and at least one item are required" });
      return;
    }
    res.status(201).json(store.create(customer, items));
  });

  router.patch("/:id", (req: Request, res: Response) => {
    const status = req.body?.status as OrderStatus;
    if (!statuses.includes(status)) {
      res.status(400).json({ error: "status must be one of " + statuses.join(", ") });
      return;
    }
    const order = store.setStatus(Number(req.params.id), status);
    if (!order) {
      res.status(404).json({ error: "no such order" });
      return;
    }
    res.json(order);
  });

  return router;
}
