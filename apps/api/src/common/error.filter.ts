import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppRunnerError, InternalServiceErrorException, InvalidRequestException, UnknownOperationException } from '@apprunner/core';
import { isAwsDoor } from './request-id';

/** REST status codes: the App Runner error name stays in the body, the HTTP status follows REST conventions. */
const REST_STATUS: Record<string, number> = {
  InvalidRequestException: 400,
  UnknownOperationException: 404,
  ResourceNotFoundException: 404,
  InvalidStateException: 409,
  ServiceQuotaExceededException: 403,
  MissingAuthenticationTokenException: 401,
  IncompleteSignatureException: 401,
  UnrecognizedClientException: 401,
  InvalidSignatureException: 401,
  AccessDeniedException: 403,
  InternalServiceErrorException: 500,
  ThrottlingException: 429,
};

/**
 * One error mapping for both front doors. AWS JSON 1.0 (POST /): `{"__type", "Message"}` plus
 * `x-amzn-ErrorType`, which the SDK and CLI turn into the modeled exception. REST: `{"code", "message"}`.
 * Unexpected errors are logged with the request id and surface only as InternalServiceErrorException.
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const error = this.toAppRunnerError(exception, req);
    if (res.headersSent) {
      // A streamed answer (build logs) failed midway: the status is gone, only ending the stream tells the client.
      res.destroy();
      return;
    }
    // A body left unread (refused before reading it, or past its limit) is not drained: the connection closes instead.
    if (!req.complete) res.setHeader('connection', 'close');
    if (isAwsDoor(req)) {
      res.status(error.transportStatus ?? error.httpStatus).setHeader('x-amzn-ErrorType', error.code);
      res.type('application/x-amz-json-1.0').send(JSON.stringify({ __type: error.code, Message: error.message, message: error.message }));
    } else {
      res
        .status(error.transportStatus ?? REST_STATUS[error.code] ?? error.httpStatus)
        .json({ code: error.code, message: error.message, requestId: req.requestId });
    }
  }

  private toAppRunnerError(exception: unknown, req: Request): AppRunnerError {
    if (exception instanceof AppRunnerError) return exception;
    if (exception instanceof HttpException && exception.getStatus() < 500) {
      // Body-parser and routing errors (malformed JSON, unknown path) raised by Nest itself.
      return exception.getStatus() === 404
        ? new UnknownOperationException(exception.message)
        : new InvalidRequestException(exception.message);
    }
    this.logger.error(
      `request ${req.requestId} failed: ${exception instanceof Error ? (exception.stack ?? exception.message) : String(exception)}`,
    );
    return new InternalServiceErrorException('An internal error occurred. Quote the request id when reporting it.');
  }
}
