import { All, Controller, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { InvalidRequestException, UnknownOperationException } from '@apprunner/core';
import { ActionDispatcher } from '../actions/action-dispatcher';
import { readJsonBody } from '../common/body';
import { toRestJson } from '../common/wire';
import { ApiKeyAuthenticator } from './api-key';
import { matchRoute } from './routes';

const NUMBER_QUERY = new Set(['MaxResults']);
const BOOLEAN_QUERY = new Set(['LatestOnly', 'DeleteAllRevisions']);
const LIST_QUERY = new Set(['TagKeys']);

/** Front door 2: REST under /v1, bearer API keys; a thin adapter from the route table to actions. */
@Controller()
export class RestController {
  constructor(
    private readonly dispatcher: ActionDispatcher,
    private readonly auth: ApiKeyAuthenticator,
  ) {}

  @All('v1/*path')
  async handle(@Req() req: Request, @Res() res: Response): Promise<void> {
    const ctx = await this.auth.authenticate(req);
    const match = matchRoute(req.method, req.path);
    if (match === undefined) throw new UnknownOperationException(`No route for ${req.method} ${req.path}`);
    if (match === 'method-not-allowed') throw new UnknownOperationException(`Method ${req.method} is not supported on ${req.path}`);
    const { route, params } = match;
    let input: Record<string, unknown> = {};
    if (route.body) {
      const body = await readJsonBody(req, 'rest');
      if (body !== undefined && (typeof body !== 'object' || Array.isArray(body) || body === null)) {
        throw new InvalidRequestException('The request body must be a JSON object.');
      }
      // Spread, not Object.assign: a "__proto__" member stays a member instead of becoming the input's prototype.
      input = { ...(body as Record<string, unknown> | undefined) };
    }
    for (const name of route.query ?? []) {
      const raw = req.query[name];
      if (raw === undefined) continue;
      input[name] = queryValue(name, raw);
    }
    Object.assign(input, params);
    const output = await this.dispatcher.dispatch(ctx, route.action, input);
    res.status(route.status ?? 200).json(toRestJson(output ?? {}));
  }
}

function queryValue(name: string, raw: unknown): unknown {
  const values = (Array.isArray(raw) ? raw : [raw]).map(String);
  if (LIST_QUERY.has(name)) return values;
  const value = values[values.length - 1];
  if (NUMBER_QUERY.has(name)) {
    if (!/^-?\d+$/.test(value)) throw new InvalidRequestException(`${name} must be an integer.`);
    return Number(value);
  }
  if (BOOLEAN_QUERY.has(name)) {
    if (value !== 'true' && value !== 'false') throw new InvalidRequestException(`${name} must be true or false.`);
    return value === 'true';
  }
  return value;
}
