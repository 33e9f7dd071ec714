export { VpcConnectorService } from './vpc-connector.service';
export { NetworkRegistryService } from './network-registry.service';
export type { SecurityGroupRuleView } from '@apprunner/persistence';
