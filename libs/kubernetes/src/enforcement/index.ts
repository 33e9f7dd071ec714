export * from './cluster';
export * from './nftables';
