export * from './arn';
export * from './clock';
export * from './config';
export * from './errors';
export * from './ids';
export * from './json';
export * from './pagination';
