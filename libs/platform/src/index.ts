export * from './application.module';
export * from './platform.module';
export * from './health';
export * from './shutdown';
