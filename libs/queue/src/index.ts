export * from './queue';
export * from './periodic-lock';
