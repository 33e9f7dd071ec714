-- CreateTable
CREATE TABLE "PlatformSubnet" (
    "id" TEXT NOT NULL,
    "cidrs" TEXT[],
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "PlatformSubnet_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PlatformSecurityGroup" (
    "id" TEXT NOT NULL,
    "egress" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "PlatformSecurityGroup_pkey" PRIMARY KEY ("id")
);
