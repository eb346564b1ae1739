import express from "express";
import { ordersRouter } from "./routes/orders";
import { OrderStore } from "./store";

export function createApp(store = new OrderStore()) {
  const app = express();
  app.use(express.json());
  app.get("/healthz", (_req, res) => {
    res.json({ ok: true, uptime: process.uptime() });
  });
  app.use("/orders", ordersRouter(store));
  return app;
}
