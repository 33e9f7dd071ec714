// The local cluster builds Traefik with this file in place of lego's generated registry of DNS-01 providers
// (providers/dns/zz_gen_dns_providers.go, which imports every provider and, through them, every cloud's SDK: 846 of
// Traefik's 2,496 packages). Nothing in the local cluster asks for a certificate by DNS-01: nothing leaves the
// machine. ACME with HTTP-01 or TLS-ALPN-01 is unaffected.
package dns

import (
	"fmt"

	"github.com/go-acme/lego/v4/challenge"
)

// NewDNSChallengeProviderByName refuses every provider, as lego does an unknown one.
func NewDNSChallengeProviderByName(name string) (challenge.Provider, error) {
	return nil, fmt.Errorf("unrecognized DNS provider: %s (the local cluster's Traefik is built without DNS-01 providers)", name)
}
