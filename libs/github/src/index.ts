export * from './app-client';
export * from './checkout';
export * from './handshake-state';
export * from './repository-url';
export * from './webhooks';
