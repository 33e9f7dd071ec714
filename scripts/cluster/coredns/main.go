// CoreDNS with only the plugins the local cluster's Corefile uses (scripts/cluster/real-node.ts). Upstream's main
// registers every plugin (cloud DNS providers, etcd, ...): 1,409 packages against 797 here, which makes its cold build
// several times longer. The plugins run in upstream's order (dnsserver.Directives); a directive listed there whose
// plugin is not built in is only an error if a Corefile uses it.
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/ready"
)

func main() {
	coremain.Run()
}
