export * from './observability-configuration.service';
