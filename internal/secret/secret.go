// Package secret generates an environment's credentials.
package secret

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// Vars are the root modules' secret variables, generated per environment unless given:
// the credentials, the token the auth stand-in authenticates but denies (denied_token), and
// the DS's RSA signing certificate and key (signer_cert_pem, signer_key_pem).
var Vars = []string{"postgres_password", "redis_password", "api_token", "denied_token", "signer_cert_pem", "signer_key_pem"}

// New returns 32 random hex characters (128 bits).
func New() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// SigningBits is the size of the generated RSA signing key.
const SigningBits = 2048

// SigningCert returns a self-signed certificate and its RSA private key, both PEM
// (CERTIFICATE, and PKCS#8 PRIVATE KEY): what the real DS loads from signerCertDir
// (tls.crt, tls.key) to sign its audit exports. It must be RSA: the real DS refuses an EC key.
func SigningCert() (certPEM, keyPEM string, err error) {
	key, err := rsa.GenerateKey(rand.Reader, SigningBits)
	if err != nil {
		return "", "", fmt.Errorf("signing key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return "", "", fmt.Errorf("signing certificate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "dsenv data-storage signer"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", fmt.Errorf("signing certificate: %w", err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("signing key: %w", err)
	}
	certPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}))
	return certPEM, keyPEM, nil
}

// Signing are the variables SigningCert fills: generating them takes a noticeable time (an
// RSA key: ~0.05-0.25 s), so a caller may do it in the background (GenerateTokens + SigningCert).
var Signing = []string{"signer_cert_pem", "signer_key_pem"}

// GenerateTokens returns a fresh value for each of Vars but the signing pair.
func GenerateTokens() (map[string]string, error) {
	m := make(map[string]string, len(Vars))
	for _, k := range Vars {
		if k == Signing[0] || k == Signing[1] {
			continue
		}
		v, err := New()
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, nil
}

// Generate returns a fresh value for each of Vars.
func Generate() (map[string]string, error) {
	m, err := GenerateTokens()
	if err != nil {
		return nil, err
	}
	if m[Signing[0]], m[Signing[1]], err = SigningCert(); err != nil {
		return nil, err
	}
	return m, nil
}
