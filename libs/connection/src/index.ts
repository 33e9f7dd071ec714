export * from './connection.service';
