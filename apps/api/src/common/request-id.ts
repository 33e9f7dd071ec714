import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

declare module 'express-serve-static-core' {
  interface Request {
    requestId?: string;
    rawBody?: Buffer;
  }
}

/** Every response carries x-amzn-RequestId, as App Runner's do; the id also goes into the audit record. */
export function requestIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  req.requestId = randomUUID();
  res.setHeader('x-amzn-RequestId', req.requestId);
  next();
}
