export * from './client';
export * from './credentials';
export * from './errors';
export * from './notifications';
export * from './reference';
export * from './push-target';
