-- DropIndex
DROP INDEX "CustomDomain_serviceId_domainName_key";

-- CreateIndex
CREATE INDEX "CustomDomain_serviceId_idx" ON "CustomDomain"("serviceId");

-- CreateIndex
CREATE UNIQUE INDEX "CustomDomain_domainName_key" ON "CustomDomain"("domainName");
