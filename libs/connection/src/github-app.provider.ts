import { createHash } from 'node:crypto';
import type { Provider } from '@nestjs/common';
import { PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';
import { GitHubAppClient } from '@apprunner/github';

/** The platform's GitHub App client, or null when the App is not configured (connections then can't complete a handshake). */
export const GITHUB_APP = Symbol('GITHUB_APP');

export function githubAppFromConfig(config: PlatformConfig): GitHubAppClient | null {
  if (!config.GITHUB_APP_ID || !config.GITHUB_APP_PRIVATE_KEY || !config.GITHUB_APP_SLUG) return null;
  return new GitHubAppClient({
    appId: config.GITHUB_APP_ID,
    privateKey: config.GITHUB_APP_PRIVATE_KEY.replace(/\\n/g, '\n'),
    webhookSecret: config.GITHUB_WEBHOOK_SECRET ?? '',
    slug: config.GITHUB_APP_SLUG,
    clientId: config.GITHUB_CLIENT_ID,
    clientSecret: config.GITHUB_CLIENT_SECRET,
    apiUrl: config.GITHUB_API_URL.replace(/\/+$/, ''),
    webUrl: config.GITHUB_WEB_URL.replace(/\/+$/, ''),
  });
}

/** The OAuth client settings a handshake needs that are unset (the worker needs none of them). */
export function missingUserAuthorizationSettings(config: Pick<PlatformConfig, 'GITHUB_CLIENT_ID' | 'GITHUB_CLIENT_SECRET'>): string[] {
  return [config.GITHUB_CLIENT_ID ? '' : 'GITHUB_CLIENT_ID', config.GITHUB_CLIENT_SECRET ? '' : 'GITHUB_CLIENT_SECRET'].filter(Boolean);
}

export const githubAppProvider: Provider = {
  provide: GITHUB_APP,
  inject: [PLATFORM_CONFIG],
  useFactory: (config: PlatformConfig) => githubAppFromConfig(config),
};

/** Key of handshake states: derived from MASTER_KEY, so no new secret is needed and the key itself never leaves. */
export function handshakeKey(config: Pick<PlatformConfig, 'MASTER_KEY'>): Buffer {
  return createHash('sha256').update(`apprunner-k8s connection handshake\0${config.MASTER_KEY}`).digest();
}
