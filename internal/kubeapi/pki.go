// Package kubeapi serves environments that run the real Kubernetes API
// (terraform/modules/kubeapi): it generates their TLS material and service-account key,
// talks to kube-apiserver over plain REST (JSON, the few fields it needs), and bootstraps the
// ServiceAccounts, RBAC and tokens the DS's authentication needs.
package kubeapi

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// PKI is one environment's TLS material, all PEM: a CA, kube-apiserver's serving pair, the
// RSA key that signs ServiceAccount tokens, and two client identities the CA vouches for.
type PKI struct {
	CACert      string
	ServingCert string
	ServingKey  string
	// ServiceAccountKey signs and verifies ServiceAccount tokens (RSA, PKCS#1).
	ServiceAccountKey string
	// AdminCert/AdminKey: O=system:masters, for the harness's bootstrap and for tests that
	// create their own ServiceAccounts and bindings.
	AdminCert string
	AdminKey  string
	// ServerCert/ServerKey: the DS's own identity, CN=system:serviceaccount:<ns>:<name>.
	// RBAC matches a ServiceAccount subject by that user name, so the DS acts as its own
	// ServiceAccount with a kubeconfig that exists before the API server does (a token can
	// only be requested once it runs).
	ServerCert string
	ServerKey  string
}

// PKIOptions names what the certificates must cover.
type PKIOptions struct {
	// Hosts are the names and addresses of kube-apiserver (the network alias, 127.0.0.1);
	// localhost, 127.0.0.1 and ::1 are always added.
	Hosts []string
	// Namespace and ServerAccount make the DS's identity
	// system:serviceaccount:<Namespace>:<ServerAccount>.
	Namespace     string
	ServerAccount string
	// Validity of every certificate; 0 means one year.
	Validity time.Duration
}

// NewPKI generates fresh material: ECDSA P-256 for the certificates (fast to make),
// RSA 2048 for the service-account key (what kube-apiserver and the DS's signer expect).
func NewPKI(o PKIOptions) (*PKI, error) {
	if o.Namespace == "" || o.ServerAccount == "" {
		return nil, fmt.Errorf("kubeapi PKI: Namespace and ServerAccount are required")
	}
	if o.Validity == 0 {
		o.Validity = 365 * 24 * time.Hour
	}
	now := time.Now().Add(-time.Hour) // tolerate a container clock slightly behind
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "dsenv-kube-ca"},
		NotBefore:             now,
		NotAfter:              now.Add(o.Validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, caCert, err := sign(caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	p := &PKI{CACert: pemBlock("CERTIFICATE", caDER)}

	serving := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:   now,
		NotAfter:    now.Add(o.Validity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range append([]string{"localhost", "127.0.0.1", "::1"}, o.Hosts...) {
		if ip := net.ParseIP(h); ip != nil {
			serving.IPAddresses = append(serving.IPAddresses, ip)
		} else {
			serving.DNSNames = append(serving.DNSNames, h)
		}
	}
	if p.ServingCert, p.ServingKey, err = leaf(serving, caCert, caKey); err != nil {
		return nil, err
	}
	admin := clientTemplate(pkix.Name{CommonName: "dsenv-admin", Organization: []string{"system:masters"}}, now, o.Validity)
	if p.AdminCert, p.AdminKey, err = leaf(admin, caCert, caKey); err != nil {
		return nil, err
	}
	server := clientTemplate(pkix.Name{
		CommonName:   ServiceAccountUser(o.Namespace, o.ServerAccount),
		Organization: []string{"system:serviceaccounts", "system:serviceaccounts:" + o.Namespace},
	}, now, o.Validity)
	if p.ServerCert, p.ServerKey, err = leaf(server, caCert, caKey); err != nil {
		return nil, err
	}

	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	p.ServiceAccountKey = pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(saKey))
	return p, nil
}

// ServiceAccountUser is the user name kube-apiserver gives a ServiceAccount.
func ServiceAccountUser(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}

// Vars are the kubeapi module's TLS variables (prefix "" for the module itself, "kube_" for
// a root that passes them through).
func (p *PKI) Vars(prefix string) map[string]string {
	return map[string]string{
		prefix + "ca_cert_pem":             p.CACert,
		prefix + "tls_cert_pem":            p.ServingCert,
		prefix + "tls_key_pem":             p.ServingKey,
		prefix + "service_account_key_pem": p.ServiceAccountKey,
		prefix + "admin_cert_pem":          p.AdminCert,
		prefix + "admin_key_pem":           p.AdminKey,
		prefix + "server_cert_pem":         p.ServerCert,
		prefix + "server_key_pem":          p.ServerKey,
	}
}

func clientTemplate(subject pkix.Name, now time.Time, validity time.Duration) *x509.Certificate {
	return &x509.Certificate{
		Subject:     subject,
		NotBefore:   now,
		NotAfter:    now.Add(validity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
}

// leaf makes a key pair and a certificate for it signed by the CA.
func leaf(tmpl, ca *x509.Certificate, caKey crypto.Signer) (certPEM, keyPEM string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	der, _, err := sign(tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return "", "", err
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", kb), nil
}

func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) ([]byte, *x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, nil, fmt.Errorf("kubeapi PKI: sign %s: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	return der, cert, err
}

func pemBlock(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}
