import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AuthenticationError } from '@apprunner/core';
import { type CallContext, CredentialResolver } from '@apprunner/tenancy';

/** Bearer API keys of the REST front door: the caller's tenant, or 401. */
@Injectable()
export class ApiKeyAuthenticator {
  constructor(private readonly credentials: CredentialResolver) {}

  async authenticate(req: Request): Promise<CallContext> {
    const header = req.headers.authorization;
    if (!header?.startsWith('Bearer ')) {
      throw new AuthenticationError('MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    const found = await this.credentials.apiKey(header.slice('Bearer '.length).trim());
    if (!found) throw new AuthenticationError('UnrecognizedClientException', 'The API key included in the request is invalid.');
    return { tenant: found.tenant, principal: found.keyId, requestId: req.requestId ?? '', sourceIp: req.ip };
  }
}
