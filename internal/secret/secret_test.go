package secret

import (
	"crypto/rsa"
	"crypto/tls"
	"testing"
)

func TestGenerateGivesEveryVar(t *testing.T) {
	m, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Vars {
		if len(m[k]) < 16 {
			t.Errorf("%s: %d characters, want at least 16", k, len(m[k]))
		}
	}
	if m["api_token"] == m["denied_token"] {
		t.Error("api_token and denied_token are equal")
	}
}

// The real DS loads the pair with tls.X509KeyPair and refuses a key that is not RSA.
func TestSigningCertIsAnRSAKeyPair(t *testing.T) {
	certPEM, keyPEM, err := SigningCert()
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	if err != nil {
		t.Fatalf("not a key pair: %v", err)
	}
	k, ok := pair.PrivateKey.(*rsa.PrivateKey)
	if !ok {
		t.Fatalf("private key is %T, want *rsa.PrivateKey", pair.PrivateKey)
	}
	if k.N.BitLen() != SigningBits {
		t.Errorf("key of %d bits, want %d", k.N.BitLen(), SigningBits)
	}
}
