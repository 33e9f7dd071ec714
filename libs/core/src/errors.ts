/**
 * The one error hierarchy of the platform. Every error a caller can see is an AppRunnerError with
 * App Runner's error name (the `__type` of the AWS JSON protocol) and the HTTP status both front doors use.
 * Anything else that escapes is reported as InternalServiceErrorException without its details.
 */
export abstract class AppRunnerError extends Error {
  abstract readonly code: string;
  abstract readonly httpStatus: number;
  /** True when the caller is at fault (AWS "client" errors); false for server faults. */
  readonly senderFault: boolean = true;
  /**
   * An HTTP status the transport imposes on every door (413 body too large, 415 media type, 431 headers too
   * large), overriding both the AWS door's status and the REST door's mapping; the error name stays App Runner's.
   */
  readonly transportStatus?: number;

  constructor(message: string, options: { transportStatus?: number } = {}) {
    // App Runner messages are at most 600 characters (ErrorMessage shape).
    super(message.length > 600 ? `${message.slice(0, 597)}...` : message);
    if (options.transportStatus !== undefined) this.transportStatus = options.transportStatus;
  }
}

export class InvalidRequestException extends AppRunnerError {
  readonly code = 'InvalidRequestException';
  readonly httpStatus = 400;
}

export class ResourceNotFoundException extends AppRunnerError {
  readonly code = 'ResourceNotFoundException';
  readonly httpStatus = 400;
}

export class InvalidStateException extends AppRunnerError {
  readonly code = 'InvalidStateException';
  readonly httpStatus = 400;
}

export class ServiceQuotaExceededException extends AppRunnerError {
  readonly code = 'ServiceQuotaExceededException';
  readonly httpStatus = 400;
}

export class InternalServiceErrorException extends AppRunnerError {
  readonly code = 'InternalServiceErrorException';
  readonly httpStatus = 500;
  override readonly senderFault = false;
}

/** Authentication failures, named as AWS names them for SigV4 (and reused for bearer keys). */
export class AuthenticationError extends AppRunnerError {
  readonly httpStatus: number;
  constructor(
    readonly code:
      | 'MissingAuthenticationTokenException'
      | 'IncompleteSignatureException'
      | 'UnrecognizedClientException'
      | 'InvalidSignatureException'
      | 'AccessDeniedException',
    message: string,
  ) {
    super(message);
    this.httpStatus = code === 'MissingAuthenticationTokenException' || code === 'AccessDeniedException' ? 403 : 400;
  }
}

/** Unknown X-Amz-Target or REST route. */
/**
 * AWS's common throttling error (every AWS API may answer it; the SDKs and the CLI retry it with backoff): here, a
 * request that could not get a database connection or finish its transaction in time because the platform is
 * overloaded. Nothing of it was written (its transaction rolled back), so retrying is safe.
 */
export class ThrottlingException extends AppRunnerError {
  readonly code = 'ThrottlingException';
  readonly httpStatus = 400;
}

export class UnknownOperationException extends AppRunnerError {
  readonly code = 'UnknownOperationException';
  readonly httpStatus = 400;
}
