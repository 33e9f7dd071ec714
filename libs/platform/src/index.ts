export * from './application.module';
export * from './platform.module';
