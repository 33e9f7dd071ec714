export { VpcConnectorService } from './vpc-connector.service';
export { NetworkRegistryService, type SecurityGroupRuleView } from './network-registry.service';
