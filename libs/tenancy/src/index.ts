export * from './context';
export * from './credential.resolver';
export * from './quotas';
export * from './tenant.service';
export * from './ownership';
