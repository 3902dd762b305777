package hub

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// envCase is an environment and what huggingface_hub derives from it;
// TestInteropEnvironment checks every case against Python's own constants
// and get_token(). In env, files and want, {base} stands for a fresh folder;
// HOME is always {base}/home.
type envCase struct {
	name  string
	env   map[string]string
	files map[string]string // path under {base} -> contents
	want  Options           // CacheDir, Endpoint, Token, Offline
}

var envCases = []envCase{
	{name: "defaults", want: Options{CacheDir: "{base}/home/.cache/huggingface/hub", Endpoint: DefaultEndpoint}},
	{name: "XDG_CACHE_HOME", env: map[string]string{"XDG_CACHE_HOME": "{base}/xdg"},
		want: Options{CacheDir: "{base}/xdg/huggingface/hub", Endpoint: DefaultEndpoint}},
	{name: "HF_HOME over XDG", env: map[string]string{"HF_HOME": "{base}/hf", "XDG_CACHE_HOME": "{base}/xdg"},
		want: Options{CacheDir: "{base}/hf/hub", Endpoint: DefaultEndpoint}},
	{name: "HF_HOME with ~", env: map[string]string{"HF_HOME": "~/hf"},
		want: Options{CacheDir: "{base}/home/hf/hub", Endpoint: DefaultEndpoint}},
	{name: "HF_HOME with $VAR", env: map[string]string{"HF_HOME": "$LOOM_T_ROOT/hf", "LOOM_T_ROOT": "{base}/v"},
		want: Options{CacheDir: "{base}/v/hf/hub", Endpoint: DefaultEndpoint}},
	{name: "HF_HUB_CACHE with ${VAR}", env: map[string]string{"HF_HUB_CACHE": "${LOOM_T_ROOT}/c", "LOOM_T_ROOT": "{base}/v"},
		want: Options{CacheDir: "{base}/v/c", Endpoint: DefaultEndpoint}},
	{name: "unset variable kept", env: map[string]string{"HF_HUB_CACHE": "{base}/$LOOM_T_UNSET/c"},
		want: Options{CacheDir: "{base}/$LOOM_T_UNSET/c", Endpoint: DefaultEndpoint}},
	{name: "legacy HUGGINGFACE_HUB_CACHE", env: map[string]string{"HF_HOME": "{base}/hf", "HUGGINGFACE_HUB_CACHE": "{base}/legacy"},
		want: Options{CacheDir: "{base}/legacy", Endpoint: DefaultEndpoint}},
	{name: "HF_HUB_CACHE over legacy", env: map[string]string{"HF_HUB_CACHE": "{base}/new", "HUGGINGFACE_HUB_CACHE": "{base}/legacy"},
		want: Options{CacheDir: "{base}/new", Endpoint: DefaultEndpoint}},
	{name: "endpoint", env: map[string]string{"HF_ENDPOINT": "http://mirror.example:8080/hf//"},
		want: Options{CacheDir: "{base}/home/.cache/huggingface/hub", Endpoint: "http://mirror.example:8080/hf"}},
	{name: "token file", env: map[string]string{"HF_HOME": "{base}/hf"}, files: map[string]string{"hf/token": "  hf_fromfile \n"},
		want: Options{CacheDir: "{base}/hf/hub", Endpoint: DefaultEndpoint, Token: "hf_fromfile"}},
	{name: "HF_TOKEN over file", env: map[string]string{"HF_HOME": "{base}/hf", "HF_TOKEN": " hf_env\n"},
		files: map[string]string{"hf/token": "hf_fromfile"},
		want:  Options{CacheDir: "{base}/hf/hub", Endpoint: DefaultEndpoint, Token: "hf_env"}},
	{name: "legacy token variable", env: map[string]string{"HUGGING_FACE_HUB_TOKEN": "hf_legacy"},
		want: Options{CacheDir: "{base}/home/.cache/huggingface/hub", Endpoint: DefaultEndpoint, Token: "hf_legacy"}},
	{name: "blank HF_TOKEN hides legacy", env: map[string]string{"HF_TOKEN": "  ", "HUGGING_FACE_HUB_TOKEN": "hf_legacy"},
		want: Options{CacheDir: "{base}/home/.cache/huggingface/hub", Endpoint: DefaultEndpoint}},
	{name: "HF_TOKEN_PATH", env: map[string]string{"HF_TOKEN_PATH": "{base}/tok/t"}, files: map[string]string{"tok/t": "hf_path\r\n"},
		want: Options{CacheDir: "{base}/home/.cache/huggingface/hub", Endpoint: DefaultEndpoint, Token: "hf_path"}},
	{name: "offline 1", env: map[string]string{"HF_HUB_OFFLINE": "1"},
		want: Options{CacheDir: "{base}/home/.cache/huggingface/hub", Endpoint: DefaultEndpoint, Offline: true}},
	{name: "offline true", env: map[string]string{"HF_HUB_OFFLINE": "true"},
		want: Options{CacheDir: "{base}/home/.cache/huggingface/hub", Endpoint: DefaultEndpoint, Offline: true}},
	{name: "offline On", env: map[string]string{"HF_HUB_OFFLINE": "On"},
		want: Options{CacheDir: "{base}/home/.cache/huggingface/hub", Endpoint: DefaultEndpoint, Offline: true}},
	{name: "offline 0", env: map[string]string{"HF_HUB_OFFLINE": "0"},
		want: Options{CacheDir: "{base}/home/.cache/huggingface/hub", Endpoint: DefaultEndpoint}},
	{name: "offline no", env: map[string]string{"HF_HUB_OFFLINE": "no"},
		want: Options{CacheDir: "{base}/home/.cache/huggingface/hub", Endpoint: DefaultEndpoint}},
	{name: "TRANSFORMERS_OFFLINE", env: map[string]string{"TRANSFORMERS_OFFLINE": "1"},
		want: Options{CacheDir: "{base}/home/.cache/huggingface/hub", Endpoint: DefaultEndpoint, Offline: true}},
	{name: "HF_HUB_OFFLINE=0 hides TRANSFORMERS_OFFLINE", env: map[string]string{"HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "1"},
		want: Options{CacheDir: "{base}/home/.cache/huggingface/hub", Endpoint: DefaultEndpoint}},
}

// setup writes the case's files under base and returns its environment
// with {base} substituted, HOME included.
func (c envCase) setup(t *testing.T, base string) map[string]string {
	t.Helper()
	sub := strings.NewReplacer("{base}", base)
	env := map[string]string{"HOME": base + "/home"}
	for k, v := range c.env {
		env[k] = sub.Replace(v)
	}
	for name, data := range c.files {
		p := filepath.Join(base, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o600))
	}
	return env
}

func (c envCase) wanted(base string) Options {
	sub := strings.NewReplacer("{base}", base)
	w := c.want
	w.CacheDir = filepath.FromSlash(sub.Replace(w.CacheDir))
	return w
}

func TestFromEnv(t *testing.T) {
	for _, c := range envCases {
		t.Run(c.name, func(t *testing.T) {
			clearHFEnv(t)
			base := t.TempDir()
			for k, v := range c.setup(t, base) {
				t.Setenv(k, v)
			}
			got, err := FromEnv()
			require.NoError(t, err)
			assert.Equal(t, c.wanted(base), got)
		})
	}
}

func TestFromEnvUnreadableTokenFile(t *testing.T) {
	clearHFEnv(t)
	base := t.TempDir()
	t.Setenv("HF_HOME", base)
	require.NoError(t, os.WriteFile(filepath.Join(base, "token"), make([]byte, maxTokenFile+1), 0o600))
	_, err := FromEnv()
	assert.ErrorIs(t, err, ErrTooLarge)

	require.NoError(t, os.Remove(filepath.Join(base, "token")))
	require.NoError(t, os.Mkdir(filepath.Join(base, "token"), 0o755))
	_, err = FromEnv()
	assert.ErrorContains(t, err, "token file")
}
