package approval

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/clawwarden/clawwarden/internal/safefile"
)

// KDFParams are the Argon2id parameters of a stored passphrase.
type KDFParams struct {
	Time    uint32 `json:"time"`
	Memory  uint32 `json:"memory_kib"`
	Threads uint8  `json:"threads"`
}

// DefaultKDF follows RFC 9106's second recommended option, sized for a
// 2-core machine: about a tenth of a second per approval.
var DefaultKDF = KDFParams{Time: 3, Memory: 64 * 1024, Threads: 2}

// minKDF is the weakest parameter set a stored record may name; anything
// weaker is treated as tampering.
var minKDF = KDFParams{Time: 1, Memory: 8 * 1024, Threads: 1}

// maxKDF is the costliest parameter set a stored record may name: a record
// asking for more (terabytes of memory, hours of work) is tampering that
// would make every approval hang or exhaust memory.
var maxKDF = KDFParams{Time: 16, Memory: 1 << 20, Threads: 16}

// Passphrase is the stored verifier of the approval passphrase: never the
// passphrase itself, only what is needed to check it and to verify the
// signatures it makes.
type Passphrase struct {
	Version   int       `json:"version"`
	KDF       string    `json:"kdf"`
	Params    KDFParams `json:"params"`
	Salt      []byte    `json:"salt"`
	PublicKey []byte    `json:"public_key"`
	CreatedAt time.Time `json:"created_at"`
}

// ErrWeakPassphrase: a new passphrase shorter than 8 characters.
var ErrWeakPassphrase = errors.New("the approval passphrase must have at least 8 characters")

// NewPassphrase derives a verifier for pass with a fresh random salt.
func NewPassphrase(pass string, params KDFParams, now time.Time) (*Passphrase, error) {
	if len(pass) < 8 {
		return nil, ErrWeakPassphrase
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	p := &Passphrase{Version: 1, KDF: "argon2id+ed25519", Params: params, Salt: salt, CreatedAt: now.UTC()}
	p.PublicKey = p.derive(pass).Public().(ed25519.PublicKey)
	return p, nil
}

func (p *Passphrase) derive(pass string) ed25519.PrivateKey {
	seed := argon2.IDKey([]byte(pass), p.Salt, p.Params.Time, p.Params.Memory, p.Params.Threads, ed25519.SeedSize)
	return ed25519.NewKeyFromSeed(seed)
}

// Key returns the signing key derived from pass, or ErrBadToken when pass is
// not the stored passphrase.
func (p *Passphrase) Key(pass string) (ed25519.PrivateKey, error) {
	k := p.derive(pass)
	if subtle.ConstantTimeCompare(k.Public().(ed25519.PublicKey), p.PublicKey) != 1 {
		return nil, ErrBadToken
	}
	return k, nil
}

// Verify reports whether sig is a signature of msg by the passphrase's key.
func (p *Passphrase) Verify(msg, sig []byte) bool {
	return len(sig) == ed25519.SignatureSize && ed25519.Verify(p.PublicKey, msg, sig)
}

// LoadPassphrase reads the stored verifier. It returns (nil, nil) when no
// passphrase is set.
func LoadPassphrase(path string) (*Passphrase, error) {
	data, err := safefile.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p Passphrase
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, safefile.ErrInvalid, err)
	}
	if p.Version != 1 || p.KDF != "argon2id+ed25519" || len(p.Salt) < 16 ||
		len(p.PublicKey) != ed25519.PublicKeySize ||
		p.Params.Time < minKDF.Time || p.Params.Memory < minKDF.Memory || p.Params.Threads < minKDF.Threads ||
		p.Params.Time > maxKDF.Time || p.Params.Memory > maxKDF.Memory || p.Params.Threads > maxKDF.Threads {
		return nil, fmt.Errorf("%s: %w: not a valid passphrase record; set it again with 'clawwarden approval set-passphrase'", path, safefile.ErrInvalid)
	}
	return &p, nil
}

// Save writes the verifier atomically (0600).
func (p *Passphrase) Save(path string) error {
	if err := safefile.EnsureDir(filepath.Dir(path)); err != nil {
		return err
	}
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return safefile.WriteFile(path, append(data, '\n'))
}
