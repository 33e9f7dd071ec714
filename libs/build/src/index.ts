export * from './build-log.store';
export * from './source-builds';
