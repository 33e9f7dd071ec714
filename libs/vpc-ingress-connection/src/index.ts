export * from './vpc-ingress-connection.service';
