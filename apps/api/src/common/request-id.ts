import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { UnknownOperationException } from '@apprunner/core';

declare module 'express-serve-static-core' {
  interface Request {
    requestId?: string;
    rawBody?: Buffer;
  }
}

/**
 * A request of the AWS door: App Runner's SDKs and CLI POST to `/` with X-Amz-Target. Its errors are AWS JSON 1.0
 * documents; any other request is answered in the REST shape.
 */
export function isAwsDoor(req: Request): boolean {
  return req.headers['x-amz-target'] !== undefined || (req.method === 'POST' && req.path === '/');
}

/**
 * The first middleware of the API, before any route, parser or error: every response carries the request id as
 * `x-amzn-RequestId` (what the AWS SDKs read into `$metadata.requestId`), and the REST, admin and webhook doors'
 * also as `x-request-id`. The id goes into logs, error bodies and audit records.
 */
export function requestIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  req.requestId = randomUUID();
  res.setHeader('x-amzn-RequestId', req.requestId);
  if (!isAwsDoor(req)) res.setHeader('x-request-id', req.requestId);
  next();
}

/**
 * Express routes `//` and `/v1//services` as if the empty segments were not there; App Runner's endpoint serves
 * exactly `/`. A path with an empty segment names no operation.
 */
export function canonicalPathMiddleware(req: Request, _res: Response, next: NextFunction): void {
  // An absolute-form target (`POST http://host/`) is a proxy's way of naming `/`: only its path counts.
  const path = req.originalUrl.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i, '').split('?')[0];
  if (path.includes('//')) return next(new UnknownOperationException(`No operation is served at ${path.slice(0, 200)}`));
  next();
}

const CLIENT_ERRORS: Record<string, { status: number; reason: string; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    reason: 'Request Header Fields Too Large',
    message: 'The request headers are larger than the server accepts.',
  },
};

/**
 * Requests Node's HTTP parser refuses never reach Express (headers too large, malformed request lines): without this,
 * Node answers a bare 431/400. This answers them as the doors answer errors, with an App Runner error type and a
 * request id; the body carries both shapes' members because the door cannot be told before the headers are read.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const known = CLIENT_ERRORS[error.code ?? ''] ?? { status: 400, reason: 'Bad Request', message: 'The request is not valid HTTP.' };
    const requestId = randomUUID();
    const body = JSON.stringify({
      __type: 'InvalidRequestException',
      Message: known.message,
      code: 'InvalidRequestException',
      message: known.message,
      requestId,
    });
    socket.end(
      `HTTP/1.1 ${known.status} ${known.reason}\r\n` +
        'Content-Type: application/json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `x-amzn-RequestId: ${requestId}\r\n` +
        `x-request-id: ${requestId}\r\n` +
        'x-amzn-ErrorType: InvalidRequestException\r\n' +
        'Connection: close\r\n\r\n' +
        body,
    );
  });
}
