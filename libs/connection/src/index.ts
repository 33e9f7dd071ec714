export * from './connection.service';
export * from './github-app.provider';
