extends "res://test_case.gd"
## Acceptance: stop() ends a reply within one token; queue_free() on an NPC
## mid-generation does not crash; over 100 such cycles the Go heap and
## Godot's object count stay flat.

const CYCLES := 100


func run() -> void:
	var model := await load_model()
	await _stop_within_one_token(model)
	await _free_in_handler(model)
	await _free_cycles(model)


func _stop_within_one_token(model: LoomModel) -> void:
	var npc := make_npc(model)
	npc.temperature = 1.0
	npc.seed = 5
	npc.max_tokens = 4000
	npc.use_chat_template = false
	var rec := Recorder.new(npc)
	var state := {"after_stop": -1}
	npc.token.connect(func(_t):
		if state.after_stop >= 0:
			state.after_stop += 1
		elif rec.tokens.size() == 3:
			npc.stop()
			state.after_stop = 0
			check(not npc.is_generating(), "is_generating() is false right after stop()"))
	check_eq(npc.say("Tell me a very long story."), OK, "say()")
	check(await wait_until(rec.done), "reply_finished after stop()")
	for i in 5:
		await get_tree().process_frame
	check(state.after_stop <= 1, "token signals after stop(): %d (at most 1 allowed)" % state.after_stop)
	report("tokens_after_stop", state.after_stop)
	check_eq(rec.failed, null, "no generation_failed after stop()")
	check_eq(rec.reply, "".join(rec.tokens), "reply_finished after stop() carries the streamed text")
	check_eq(npc.get_history().size(), 2, "a stopped say() still adds both turns")
	# The NPC is usable again at once.
	rec.reset()
	npc.max_tokens = 5
	check_eq(npc.say("Again"), OK, "say() right after stop()")
	check(await wait_until(rec.done), "the next reply finishes")
	check_eq(rec.failed, null, "the next reply does not fail")
	npc.queue_free()


## queue_free() from inside the NPC's own token handler (Godot refuses
## free() while an object emits): tokens stop once the node is deleted at the
## end of the frame.
func _free_in_handler(model: LoomModel) -> void:
	var npc := make_npc(model)
	npc.temperature = 1.0
	npc.max_tokens = 4000
	var state := {"tokens": 0}
	npc.token.connect(func(_t):
		state.tokens += 1
		if state.tokens == 2:
			npc.queue_free())
	npc.say("Talk until you are freed")
	check(await wait_until(func(): return state.tokens >= 2), "tokens before queue_free()")
	await get_tree().process_frame
	await get_tree().process_frame
	var after_deletion: int = state.tokens
	for i in 10:
		await get_tree().process_frame
	check(not is_instance_valid(npc), "the NPC was deleted")
	check_eq(state.tokens, after_deletion, "tokens after the NPC was deleted")


## Waits until the Go runtime's goroutine count stops changing (cancelled
## jobs have wound down), then returns the runtime stats.
func _settled_stats() -> Dictionary:
	var stats: Dictionary = LoomModel.get_runtime_stats()
	var stable := 0
	while stable < 3:
		await get_tree().create_timer(0.1).timeout
		var next: Dictionary = LoomModel.get_runtime_stats()
		stable = stable + 1 if next.goroutines == stats.goroutines else 0
		stats = next
	return stats


func _free_cycles(model: LoomModel) -> void:
	var heap := []
	var objects := []
	var goroutines := []
	for cycle in CYCLES + 1:
		var npc := make_npc(model)
		npc.temperature = 1.0
		npc.max_tokens = 4000
		var count := {"tokens": 0}
		npc.token.connect(func(_t): count.tokens += 1)
		npc.say("Hello there, wizard of the tower")
		await wait_until(func(): return count.tokens >= 2)
		npc.queue_free()
		await get_tree().process_frame
		if cycle == 10 or cycle == CYCLES:
			var stats := await _settled_stats()
			heap.append(stats.heap_alloc)
			goroutines.append(stats.goroutines)
			objects.append(Performance.get_monitor(Performance.OBJECT_COUNT))
	report("go_heap_bytes_cycle10_cycle100", heap)
	report("goroutines_cycle10_cycle100", goroutines)
	report("object_count_cycle10_cycle100", objects)
	check(heap[1] - heap[0] < 256 * 1024, "Go heap grew by %d bytes over %d cycles" % [heap[1] - heap[0], CYCLES - 10])
	check_eq(goroutines[1], goroutines[0], "goroutines after the cycles")
	check_eq(objects[1], objects[0], "Godot object count after the cycles")
