extends "res://test_case.gd"
## Acceptance: LoomModel.model_id downloads a model from a Hugging Face hub
## (ci/godot/fakehub, started by ci/godot/test.sh, which passes its URL in
## HF_ENDPOINT and its process id in LOOM_FAKEHUB_PID) into a user:// cache
## on a worker thread, reporting download_progress on the main thread up to
## the total; the model then gives transformers' greedy reply. With the hub
## gone, the cached copy loads (load_blocking()), and a model that is not
## cached fails with a message that says so.

const CACHE := "user://hub_test/cache"
const REPO := "loom/tiny-chat"
## The files LoomModel fetches for a single-file safetensors model.
const FILES := ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"]


## Records a LoomModel's signals, with whether they came on the main thread.
class LoadRecorder:
	var events := PackedStringArray()
	var progress: Array = []
	var failed = null
	var off_main_thread := 0

	func _init(model: LoomModel) -> void:
		model.loaded.connect(func(): _note("loaded"))
		model.load_failed.connect(func(m): _note("failed"); failed = m)
		model.download_progress.connect(func(done, total): _note("progress"); progress.append([done, total]))

	func _note(what: String) -> void:
		events.append(what)
		if OS.get_thread_caller_id() != OS.get_main_thread_id():
			off_main_thread += 1

	func done() -> bool:
		return events.has("loaded") or events.has("failed")


func run() -> void:
	var pid := OS.get_environment("LOOM_FAKEHUB_PID")
	if OS.get_environment("HF_ENDPOINT") == "" or pid == "":
		check(false, "HF_ENDPOINT or LOOM_FAKEHUB_PID is unset: run this test through ci/godot/test.sh, which starts the fake hub")
		return
	_remove_tree(CACHE)

	var model := LoomModel.new()
	model.model_id = REPO
	model.cache_dir = CACHE
	var rec := LoadRecorder.new(model)
	var start := Time.get_ticks_msec()
	check_eq(model.load(), OK, "load() of model_id")
	check(not model.is_loaded(), "load() returns before the download ends")
	check(await wait_until(rec.done, 120.0), "download and load finished")
	report("download_and_load_ms", Time.get_ticks_msec() - start)
	check_eq(rec.failed, null, "load_failed message")
	check(model.is_loaded(), "the downloaded model is loaded")
	check_eq(rec.events[rec.events.size() - 1], "loaded", "loaded comes after every download_progress")
	check_eq(rec.off_main_thread, 0, "signals emitted off the main thread")
	var total := 0
	for f in FILES:
		total += FileAccess.get_file_as_bytes(MODEL_PATH.path_join(f)).size()
	check(rec.progress.size() >= 2, "several download_progress signals, got %d" % rec.progress.size())
	check_eq(rec.progress.back(), [total, total], "the last download_progress is the total of the model's files")
	var monotonic := true
	for i in range(1, rec.progress.size()):
		monotonic = monotonic and rec.progress[i][0] >= rec.progress[i - 1][0] and rec.progress[i][1] >= rec.progress[i - 1][1]
	check(monotonic, "download_progress never goes back: %s" % str(rec.progress))
	check(DirAccess.dir_exists_absolute(CACHE.path_join("models--loom--tiny-chat/snapshots")), "the model is in cache_dir, in the Hugging Face layout")
	report("download_progress_signals", rec.progress.size())
	check_eq(await _greedy_reply(model), golden().greedy_text, "reply of the downloaded model equals transformers' greedy reply")

	# The hub goes away: the cache is enough, and nothing is downloaded.
	check_eq(OS.kill(int(pid)), OK, "stopping the fake hub")
	var again := LoomModel.new()
	again.model_id = REPO
	again.cache_dir = CACHE
	var rec_again := LoadRecorder.new(again)
	check_eq(again.load_blocking(), OK, "load_blocking() from the cache with the hub unreachable")
	check(again.is_loaded(), "the cached model is loaded")
	check(await wait_until(rec_again.done), "loaded signal after load_blocking()")
	check_eq(rec_again.events, PackedStringArray(["loaded"]), "signals of a load from the cache")
	check_eq(await _greedy_reply(again), golden().greedy_text, "reply of the cached model")

	# Not cached and no hub: load_failed says why; the default cache is
	# under user://.
	var unknown := LoomModel.new()
	unknown.model_id = "loom/not-cached"
	var rec_unknown := LoadRecorder.new(unknown)
	check_eq(unknown.load_blocking(), ERR_FILE_NOT_FOUND, "load_blocking() of a model neither cached nor reachable")
	check(await wait_until(rec_unknown.done), "load_failed after load_blocking()")
	var message := str(rec_unknown.failed)
	check(message.contains("not in the local cache"), "load_failed says the model is not cached: " + message)
	check(message.contains("unreachable"), "load_failed says the hub is unreachable: " + message)
	var default_cache := ProjectSettings.globalize_path("user://huggingface/hub")
	check(message.contains(default_cache), "load_failed names the default cache %s: %s" % [default_cache, message])

	unknown.model_id = "not a repo id"
	check_eq(unknown.load(), ERR_INVALID_PARAMETER, "load() of a malformed model_id")
	unknown.model_id = REPO
	unknown.cache_dir = "cache"
	check_eq(unknown.load(), ERR_INVALID_PARAMETER, "load() with a relative cache_dir")
	await get_tree().process_frame
	_remove_tree(CACHE.get_base_dir())


func _greedy_reply(model: LoomModel) -> String:
	var g := golden()
	var npc := make_npc(model)
	npc.max_tokens = g.greedy_ids.size()
	var rec := Recorder.new(npc)
	check_eq(npc.say(g.messages[0].content), OK, "say()")
	check(await wait_until(rec.done), "reply finished in time")
	check_eq(rec.failed, null, "generation_failed message")
	npc.queue_free()
	return rec.reply if rec.reply != null else ""


## Deletes a folder and everything in it, hidden entries included (the
## cache has .locks and .no_exist folders).
func _remove_tree(path: String) -> void:
	var dir := DirAccess.open(path)
	if dir == null:
		return
	dir.include_hidden = true
	for f in dir.get_files():
		DirAccess.remove_absolute(path.path_join(f))
	for d in dir.get_directories():
		_remove_tree(path.path_join(d))
	DirAccess.remove_absolute(path)
