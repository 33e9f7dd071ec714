export { VpcConnectorService } from './vpc-connector.service';
