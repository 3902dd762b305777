package hub

import "errors"

// Sentinel errors, wrapped with context; test with errors.Is.
var (
	// ErrInvalidRepoID: not org/name[@revision], or an unsafe revision.
	ErrInvalidRepoID = errors.New("invalid repo id")
	// ErrBadFilename: a file name (from an index, the caller or the server)
	// that could escape the cache folder or is not portable.
	ErrBadFilename = errors.New("unsafe file name")
	// ErrNoCacheDir: Options.CacheDir is empty (no HF_HOME, HF_HUB_CACHE or
	// home directory).
	ErrNoCacheDir = errors.New("no cache directory")
	// ErrNotCached: offline (HF_HUB_OFFLINE or no network) and the model's
	// files are not all in the cache.
	ErrNotCached = errors.New("model is not in the local cache")
	// ErrUnauthorized: the hub answered 401/403; the repo is gated or
	// private and needs a (valid) token.
	ErrUnauthorized = errors.New("not authorized")
	// ErrRepoNotFound: no such repository (or it is private and no token
	// gives access).
	ErrRepoNotFound = errors.New("repository not found")
	// ErrRevisionNotFound: no such branch, tag or commit.
	ErrRevisionNotFound = errors.New("revision not found")
	// ErrEntryNotFound: no such file in the repository at that commit.
	ErrEntryNotFound = errors.New("file not found in repository")
	// ErrChecksum: a downloaded file's sha256 differs from its LFS etag.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrTooLarge: a size beyond the bounds this package accepts.
	ErrTooLarge = errors.New("too large")
	// ErrMalformed: a response or cached file that breaks the protocol
	// (missing or invalid headers, an unparsable index, a short body).
	ErrMalformed = errors.New("malformed")
	// ErrHTTP: any other unexpected HTTP status.
	ErrHTTP = errors.New("unexpected HTTP status")
)
