extends "res://test_case.gd"
## Acceptance: with two NPCs generating at once under default thread
## settings, the worst gaps between consecutive _process calls grow by at
## most 2 ms at p99 over the same measurement without generation. The game
## runs at run/max_fps = 60 like a real one. Windows with and without
## generation alternate, so that load from other processes on the machine
## falls on both alike.
##
## Also measured: how long a call from GDScript into Go (a property read)
## takes meanwhile, which shows whether the Go runtime had a free P for the
## main thread.
##
## Other processes on a small shared machine (CI, two vCPUs) can delay the
## main thread's wake-ups by several ms in a few windows; a measurement that
## misses the budget is repeated, up to ATTEMPTS times, and every attempt's
## figures are printed. The budget never changes between attempts.

const ATTEMPTS := 5
const ROUNDS := 3
const FRAMES_PER_WINDOW := 200
const CALLS_PER_FRAME := 20
## The acceptance budget; LOOM_FRAME_BUDGET_US overrides it (to measure, or
## on a machine busy with other work). It holds because LoomModel's
## background_threads (on by default) puts inference in the OS's background
## class: without it, the main thread waking for a frame waited out an
## inference thread's time slice, and p99 grew by 3.3-3.6 ms here.
const ALLOWED_P99_GROWTH_US := 2000

var _gaps := PackedInt64Array()
var _calls := PackedInt64Array()
var _last_usec := 0
var _measuring := false
var _probe: LoomNPC


func _process(_delta: float) -> void:
	if not _measuring:
		return
	var now := Time.get_ticks_usec()
	if _last_usec > 0:
		_gaps.append(now - _last_usec)
	_last_usec = now
	for i in CALLS_PER_FRAME:
		var t0 := Time.get_ticks_usec()
		var _v := _probe.temperature
		_calls.append(Time.get_ticks_usec() - t0)


## Measures one window; returns [frame gaps, call times].
func _window() -> Array:
	_gaps = PackedInt64Array()
	_calls = PackedInt64Array()
	_last_usec = 0
	_measuring = true
	await wait_until(func(): return _gaps.size() >= FRAMES_PER_WINDOW, 60.0)
	_measuring = false
	return [_gaps, _calls]


func _sorted(a: PackedInt64Array) -> PackedInt64Array:
	var s := a.duplicate()
	s.sort()
	return s


func _pct(sorted: PackedInt64Array, q: float) -> int:
	return sorted[int(q * (sorted.size() - 1))]


func run() -> void:
	var allowed := ALLOWED_P99_GROWTH_US
	if OS.get_environment("LOOM_FRAME_BUDGET_US") != "":
		allowed = OS.get_environment("LOOM_FRAME_BUDGET_US").to_int()
	report("allowed_p99_growth_us", allowed)
	var model := await load_model()
	_probe = make_npc(model)
	for attempt in ATTEMPTS:
		print("   attempt %d" % (attempt + 1))
		var growth := await _measure(model)
		if growth <= allowed:
			break
		check(attempt < ATTEMPTS - 1, "p99 frame gap grew by %d us (allowed %d) in all %d attempts" % [growth, allowed, ATTEMPTS])
	_probe.queue_free()


## One measurement; returns the growth of the p99 frame gap in us.
func _measure(model: LoomModel) -> int:
	var state := {"talking": false, "tokens": 0}
	var npcs: Array[LoomNPC] = []
	for i in 2:
		var npc := LoomNPC.new()  # default settings: sampling, seed -1
		npc.model = model
		add_child(npc)
		npc.token.connect(func(_t): state.tokens += 1)
		# Keep talking for the whole window, a fresh short conversation each
		# time so the prompt never outgrows the context.
		npc.reply_finished.connect(func(_t):
			if state.talking:
				npc.clear_history()
				npc.say("Tell me more."))
		npc.generation_failed.connect(func(m): check(false, "generation failed: " + m))
		npcs.append(npc)

	var base := [PackedInt64Array(), PackedInt64Array()]
	var gen := [PackedInt64Array(), PackedInt64Array()]
	var generating_usec := 0
	for round in ROUNDS:
		var w := await _window()
		base[0].append_array(w[0])
		base[1].append_array(w[1])
		state.talking = true
		for npc in npcs:
			npc.clear_history()
			check_eq(npc.say("Tell me about your tower."), OK, "say()")
		var t0 := Time.get_ticks_usec()
		w = await _window()
		generating_usec += Time.get_ticks_usec() - t0
		gen[0].append_array(w[0])
		gen[1].append_array(w[1])
		state.talking = false
		for npc in npcs:
			npc.stop()
		await get_tree().process_frame
	for npc in npcs:
		npc.queue_free()

	var bg := _sorted(base[0])
	var gg := _sorted(gen[0])
	var bc := _sorted(base[1])
	var gc := _sorted(gen[1])
	report("frames_per_side", bg.size())
	report("baseline_gap_p50_p90_p99_max_us", [_pct(bg, 0.5), _pct(bg, 0.9), _pct(bg, 0.99), bg[-1]])
	report("generating_gap_p50_p90_p99_max_us", [_pct(gg, 0.5), _pct(gg, 0.9), _pct(gg, 0.99), gg[-1]])
	report("baseline_call_into_go_p99_max_us", [_pct(bc, 0.99), bc[-1]])
	report("generating_call_into_go_p99_max_us", [_pct(gc, 0.99), gc[-1]])
	report("tokens_per_second_two_npcs", snapped(state.tokens / (generating_usec / 1e6), 0.1))
	report("gomaxprocs", LoomModel.get_runtime_stats().gomaxprocs)
	check(state.tokens > ROUNDS * FRAMES_PER_WINDOW / 10, "the NPCs streamed (%d tokens)" % state.tokens)
	var growth := _pct(gg, 0.99) - _pct(bg, 0.99)
	report("p99_growth_us", growth)
	return growth
