// Package evidence writes and opens release evidence packs: in-toto
// Statements (github.com/in-toto/attestation) in DSSE envelopes
// (github.com/secure-systems-lab/go-securesystemslib/dsse), one a line,
// signed with patchgate's ed25519 key. What makes a pack valid is
// patchgate.CheckEvidence's; this package only encodes, signs and verifies
// signatures.
package evidence

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// Key is patchgate's signing key.
type Key struct {
	private ed25519.PrivateKey
	id      string
}

// PublicKey is a key a pack's signatures are checked against.
type PublicKey struct {
	key ed25519.PublicKey
	id  string
}

var (
	_ dsse.SignerVerifier = (*Key)(nil)
	_ dsse.Verifier       = (*PublicKey)(nil)
)

// KeyID is the hex sha256 of a public key's PKIX DER encoding: the keyid
// every signature of a pack carries.
func KeyID(pub ed25519.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(pub) // an ed25519 key always marshals
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// NewKey wraps an ed25519 private key.
func NewKey(priv ed25519.PrivateKey) *Key {
	return &Key{private: priv, id: KeyID(priv.Public().(ed25519.PublicKey))}
}

// GenerateKey makes a new random key (tests; the server keeps its key in a file, ParseKey and PrivatePEM).
func GenerateKey() (*Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("make an ed25519 key: %w", err)
	}
	return NewKey(priv), nil
}

// KeyID returns the key's id (dsse.Signer).
func (k *Key) KeyID() (string, error) { return k.id, nil }

// ID returns the key's id.
func (k *Key) ID() string { return k.id }

// Sign signs a DSSE pre-authentication encoding (dsse.Signer).
func (k *Key) Sign(_ context.Context, data []byte) ([]byte, error) {
	return ed25519.Sign(k.private, data), nil
}

// Verify checks a signature made with the key (dsse.Verifier).
func (k *Key) Verify(ctx context.Context, data, sig []byte) error {
	return k.PublicKey().Verify(ctx, data, sig)
}

// Public returns the public key (dsse.Verifier).
func (k *Key) Public() crypto.PublicKey { return k.private.Public() }

// PublicKey returns the key's public half.
func (k *Key) PublicKey() *PublicKey {
	pub := k.private.Public().(ed25519.PublicKey)
	return &PublicKey{key: pub, id: k.id}
}

// PublicPEM is the public key as a PEM "PUBLIC KEY" block, to publish.
func (k *Key) PublicPEM() []byte { return k.PublicKey().PEM() }

// KeyID returns the public key's id (dsse.Verifier).
func (p *PublicKey) KeyID() (string, error) { return p.id, nil }

// ID returns the public key's id.
func (p *PublicKey) ID() string { return p.id }

// Public returns the ed25519 key (dsse.Verifier).
func (p *PublicKey) Public() crypto.PublicKey { return p.key }

// Verify checks an ed25519 signature (dsse.Verifier).
func (p *PublicKey) Verify(_ context.Context, data, sig []byte) error {
	if !ed25519.Verify(p.key, data, sig) {
		return errors.New("ed25519 signature does not verify")
	}
	return nil
}

// PEM encodes the public key as a PEM "PUBLIC KEY" block (PKIX).
func (p *PublicKey) PEM() []byte {
	der, _ := x509.MarshalPKIXPublicKey(p.key)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// ParsePublicKey reads a PEM "PUBLIC KEY" block holding an ed25519 key, as
// `patchgate evidence key` prints it. name says where it came from, for errors.
func ParsePublicKey(name string, data []byte) (*PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("public key %s: no PEM \"PUBLIC KEY\" block: give the file `patchgate evidence key` printed", name)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w: give the file `patchgate evidence key` printed", name, err)
	}
	ed, ok := pub.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key %s is a %T, not ed25519: patchgate signs packs with ed25519", name, pub)
	}
	return &PublicKey{key: ed, id: KeyID(ed)}, nil
}

// ParseKey reads a private key as PrivatePEM writes it: a PEM PKCS#8
// ed25519 private key. name says where it came from ("evidence key file
// /var/lib/patchgate/patchgate.evidence-key"), for errors.
func ParseKey(name string, data []byte) (*Key, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s holds no PEM \"PRIVATE KEY\" block: restore the file patchgate created", name)
	}
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: restore the file patchgate created", name, err)
	}
	ed, ok := priv.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s holds a %T, not an ed25519 key: restore the file patchgate created", name, priv)
	}
	return NewKey(ed), nil
}

// PrivatePEM is the private key as a PEM "PRIVATE KEY" block (PKCS#8), to
// keep in the server's key file; ParseKey reads it back.
func (k *Key) PrivatePEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.private)
	if err != nil {
		return nil, fmt.Errorf("encode the evidence key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
