import { Controller, Headers, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { verifySigV4 } from '@apprunner/auth';
import {
  AuthenticationError,
  Clock,
  parseJsonText,
  PLATFORM_CONFIG,
  type PlatformConfig,
  UnknownOperationException,
} from '@apprunner/core';
import { type CallContext, CredentialResolver } from '@apprunner/tenancy';
import { ActionDispatcher } from '../actions/action-dispatcher';
import { checkMediaType, decodeUtf8, DOOR_LIMITS, JSON_MEDIA_TYPES, readRawBody } from '../common/body';
import { toAwsJson } from '../common/wire';

const TARGET_PREFIX = 'AppRunner.';

/** Front door 1: the AWS JSON 1.0 protocol App Runner's SDKs and CLI speak (POST / with X-Amz-Target, SigV4). */
@Controller()
export class AwsJsonController {
  constructor(
    private readonly dispatcher: ActionDispatcher,
    private readonly credentials: CredentialResolver,
    private readonly clock: Clock,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  @Post('/')
  @HttpCode(200)
  async invoke(@Req() req: Request, @Res() res: Response, @Headers('x-amz-target') target?: string): Promise<void> {
    const ctx = await this.authenticate(req);
    if (!target?.startsWith(TARGET_PREFIX)) {
      throw new UnknownOperationException(`Missing or unknown X-Amz-Target: ${target ?? ''}`);
    }
    // The body was read (within the door's size) to check the signature; only now is it parsed.
    const raw = req.rawBody ?? Buffer.alloc(0);
    let input: unknown = {};
    if (raw.length > 0) {
      checkMediaType(req, JSON_MEDIA_TYPES.aws);
      input = parseJsonText(decodeUtf8(raw), DOOR_LIMITS.aws.maxDepth);
    }
    const output = await this.dispatcher.dispatch(ctx, target.slice(TARGET_PREFIX.length), input);
    res
      .status(200)
      .type('application/x-amz-json-1.0')
      .send(JSON.stringify(toAwsJson(output ?? {})));
  }

  /** SigV4 on the headers first (scope, date, a known key), then on the body, which is read only then. */
  private async authenticate(req: Request): Promise<CallContext> {
    let tenant: CallContext['tenant'] | undefined;
    const { accessKeyId } = await verifySigV4(
      {
        method: req.method,
        path: req.originalUrl.split('?')[0],
        query: req.query as Record<string, string | string[] | undefined>,
        headers: req.headers,
        body: () => readRawBody(req, DOOR_LIMITS.aws.maxBytes),
      },
      {
        region: this.config.APPRUNNER_REGION,
        service: 'apprunner',
        now: this.clock.now(),
        lookupSecret: async (id) => {
          const found = await this.credentials.accessKeySecret(id);
          tenant = found?.tenant;
          return found?.secret;
        },
      },
    );
    if (!tenant) throw new AuthenticationError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    return { tenant, principal: accessKeyId, requestId: req.requestId ?? '', sourceIp: req.ip };
  }
}
