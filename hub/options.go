package hub

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DefaultEndpoint is the Hugging Face Hub, used when HF_ENDPOINT is unset.
const DefaultEndpoint = "https://huggingface.co"

// maxTokenFile bounds the token file read from disk; real tokens are ~40
// bytes.
const maxTokenFile = 64 << 10

// Options says where the cache lives, which hub to ask and how. FromEnv fills
// it from the environment exactly as huggingface_hub does; callers then
// override fields (a game sets CacheDir to a folder under user://).
type Options struct {
	// CacheDir is the hub cache: the folder holding models--org--name
	// (huggingface_hub's HF_HUB_CACHE). Required.
	CacheDir string
	// Endpoint is the hub's base URL, e.g. https://huggingface.co; empty
	// means DefaultEndpoint.
	Endpoint string
	// Token is sent as "Authorization: Bearer Token", to the endpoint's own
	// scheme and host only, never to the host a download redirects to.
	Token string
	// Offline forbids all network access: only the cache is read.
	Offline bool
	// ExtraFiles names repository files to fetch besides the model files
	// (see Resolve); they are required.
	ExtraFiles []string
	// Progress, when set, is called from the downloading goroutine as a file
	// downloads: downloaded of total bytes, total being the file's size.
	Progress func(file string, downloaded, total int64)
}

// FromEnv resolves Options from the environment variables huggingface_hub
// reads, with its precedence, so Loom and Python share one cache and token:
//
//   - HF_HOME, default $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface;
//   - CacheDir: HF_HUB_CACHE, else the legacy HUGGINGFACE_HUB_CACHE, else
//     $HF_HOME/hub;
//   - Endpoint: HF_ENDPOINT without trailing slashes, else DefaultEndpoint;
//   - Token: HF_TOKEN, else the legacy HUGGING_FACE_HUB_TOKEN, else the
//     contents of the file HF_TOKEN_PATH (default $HF_HOME/token), with line
//     breaks and surrounding spaces removed (a blank one counts as none);
//   - Offline: HF_HUB_OFFLINE, or TRANSFORMERS_OFFLINE when HF_HUB_OFFLINE
//     is unset, is one of 1, ON, YES, TRUE (any case).
//
// Paths have ~ and $VAR expanded as Python's expanduser/expandvars do. Unlike
// Python, an empty variable counts as unset. When no home directory is known
// and no variable names a cache, CacheDir is left empty and Resolve reports
// ErrNoCacheDir. The only error is a token file that exists but cannot be
// read.
func FromEnv() (Options, error) {
	var o Options
	home := ""
	if v := os.Getenv("HF_HOME"); v != "" {
		home = expandPath(v)
	} else if v := os.Getenv("XDG_CACHE_HOME"); v != "" {
		home = filepath.Join(expandPath(v), "huggingface")
	} else if h, err := os.UserHomeDir(); err == nil && h != "" {
		home = filepath.Join(h, ".cache", "huggingface")
	}

	switch {
	case os.Getenv("HF_HUB_CACHE") != "":
		o.CacheDir = expandPath(os.Getenv("HF_HUB_CACHE"))
	case os.Getenv("HUGGINGFACE_HUB_CACHE") != "":
		o.CacheDir = expandPath(os.Getenv("HUGGINGFACE_HUB_CACHE"))
	case home != "":
		o.CacheDir = filepath.Join(home, "hub")
	}

	o.Endpoint = strings.TrimRight(os.Getenv("HF_ENDPOINT"), "/")
	if o.Endpoint == "" {
		o.Endpoint = DefaultEndpoint
	}

	offline := os.Getenv("HF_HUB_OFFLINE")
	if offline == "" {
		offline = os.Getenv("TRANSFORMERS_OFFLINE")
	}
	switch strings.ToUpper(offline) {
	case "1", "ON", "YES", "TRUE":
		o.Offline = true
	}

	tok := os.Getenv("HF_TOKEN")
	if tok == "" {
		tok = os.Getenv("HUGGING_FACE_HUB_TOKEN")
	}
	o.Token = cleanToken(tok)
	if o.Token == "" {
		path := ""
		if v := os.Getenv("HF_TOKEN_PATH"); v != "" {
			path = expandPath(v)
		} else if home != "" {
			path = filepath.Join(home, "token")
		}
		if path != "" {
			tok, err := readTokenFile(path)
			if err != nil {
				return o, err
			}
			o.Token = tok
		}
	}
	return o, nil
}

// readTokenFile reads a token file; a missing file means no token.
func readTokenFile(path string) (string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("hub: token file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return "", fmt.Errorf("hub: token file %s: %w", path, err)
	}
	if len(data) > maxTokenFile {
		return "", fmt.Errorf("hub: token file %s: %w: over %d bytes", path, ErrTooLarge, maxTokenFile)
	}
	return cleanToken(string(data)), nil
}

// cleanToken is huggingface_hub's _clean_token: line breaks removed, then
// surrounding whitespace.
func cleanToken(s string) string {
	s = strings.ReplaceAll(s, "\r", "")
	s = strings.ReplaceAll(s, "\n", "")
	return strings.TrimSpace(s)
}

// expandPath is Python's os.path.expandvars(os.path.expanduser(p)) on
// POSIX: a leading ~ (alone or before a separator) becomes the home
// directory, then each $NAME or ${NAME} (NAME of ASCII letters, digits and
// _) that is set is replaced by its value; unset ones stay as written.
func expandPath(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`) {
		if h, err := os.UserHomeDir(); err == nil && h != "" {
			p = h + p[1:]
		}
	}
	var b strings.Builder
	for i := 0; i < len(p); {
		if p[i] != '$' {
			b.WriteByte(p[i])
			i++
			continue
		}
		name, end := "", i+1
		if end < len(p) && p[end] == '{' {
			k := strings.IndexByte(p[end:], '}')
			if k < 0 {
				b.WriteByte('$')
				i++
				continue
			}
			name, end = p[end+1:end+k], end+k+1
		} else {
			for end < len(p) && isWordByte(p[end]) {
				end++
			}
			name = p[i+1 : end]
		}
		if v, ok := os.LookupEnv(name); ok && name != "" {
			b.WriteString(v)
		} else {
			b.WriteString(p[i:end])
		}
		i = end
	}
	return filepath.Clean(b.String())
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
