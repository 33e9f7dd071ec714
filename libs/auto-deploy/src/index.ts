export * from './auto-deploy.service';
