package transport

import (
	"crypto/tls"
	"fmt"
	"sync"
)

// CertFile is a TLS certificate and key loaded from PEM files, reloaded
// by [CertFile.Reload] (an operator's SIGHUP): handshakes after a
// successful reload use the new pair; a failed reload keeps the old one.
type CertFile struct {
	certPath, keyPath string

	mu   sync.RWMutex
	cert *tls.Certificate
}

// LoadCertFile loads a certificate chain and its key.
func LoadCertFile(certPath, keyPath string) (*CertFile, error) {
	c := &CertFile{certPath: certPath, keyPath: keyPath}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload rereads both files.
func (c *CertFile) Reload() error {
	cert, err := tls.LoadX509KeyPair(c.certPath, c.keyPath)
	if err != nil {
		return fmt.Errorf("tls certificate %s, key %s: %w", c.certPath, c.keyPath, err)
	}
	c.mu.Lock()
	c.cert = &cert
	c.mu.Unlock()
	return nil
}

// GetCertificate returns the current pair (for tls.Config.GetCertificate).
func (c *CertFile) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cert, nil
}

// TLSConfig returns a server configuration that always uses the current
// pair.
func (c *CertFile) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.GetCertificate}
}
