export * from './auto-scaling-configuration.service';
