package main

// The template lines of the dialogues, written for this demo.

// generalQuestions fit any answer.
var generalQuestions = []string{
	"What wisdom can you share with me, old one?",
	"Any advice for a weary traveller?",
	"Tell me something worth knowing.",
	"What have your long years taught you?",
	"Speak, wizard. What is on your mind?",
	"I came a long way to hear you. What do you say?",
	"Do you have a word for me before I go on?",
	"What should I remember on my journey?",
	"Say something wise, please.",
	"Wizard, I am lost. Help me understand.",
	"What do you see in your crystal today?",
	"Teach me something.",
}

// questions holds the player lines of each topic.
var questions = map[string][]string{
	"wisdom": {
		"What is true wisdom?", "How do I become wise?", "What is the secret of a good life?",
		"Give me a piece of your wisdom.", "What do the wise know that I do not?",
	},
	"way": {
		"Speak to me of the Way.", "What is the path I should follow?", "How does the world really work?",
		"Tell me of the old teachings of the East.",
	},
	"fortune": {
		"What does my future hold?", "Will you tell my fortune?", "Read my fortune, wizard.",
		"What do the stars say about me?", "Is luck on my side today?",
	},
	"books": {
		"What have you read in your ancient books?", "Tell me of the great writers.",
		"Is it worth reading so many books?", "What do the old stories teach?",
	},
	"love": {
		"What do you know of love?", "My heart aches. What should I do?", "Is love worth the trouble?",
		"How do I win the one I love?",
	},
	"work": {
		"I am tired of my labours. Any counsel?", "Why must we work so hard?",
		"My master treats me poorly. What should I do?", "How do I succeed in my trade?",
	},
	"food": {
		"What should I eat for the road?", "Do wizards eat like the rest of us?",
		"Tell me about food and feasting.", "Is there magic in a good meal?",
	},
	"beasts": {
		"What do you think of cats and dogs?", "Do you keep any animals in your tower?",
		"Tell me about beasts.", "Why does my dog stare at me?",
	},
	"children": {
		"How should I raise my children?", "What do children understand that we forget?",
		"My little brother asks too many questions. What do I tell him?",
	},
	"learning": {
		"Should I go to the academy?", "How do I learn faster?", "What is the use of schooling?",
		"Will you teach me, master?",
	},
	"nature": {
		"How does the world work?", "What is the sky made of?", "Tell me of the stars and the sea.",
		"What secrets does nature hide?", "Is your magic a kind of science?",
	},
	"magic": {
		"Teach me a spell.", "How does magic work?", "Can anyone learn magic?",
		"What is the greatest spell you know?",
	},
	"health": {
		"I feel unwell. What do you advise?", "How do I live a long life?",
		"Do you have a potion for my aches?", "Should I trust the healers?",
	},
	"law": {
		"What do you think of the king's laws?", "I have a quarrel with my neighbour. What should I do?",
		"Is justice real?", "Should I trust the lawyers in the city?",
	},
	"games": {
		"Do you like games and sport?", "How do I win the tournament?",
		"Is it shameful to lose?", "What do you think of the jousts?",
	},
	"song": {
		"Sing me a verse, wizard.", "Do you know any old songs?", "Recite a poem for me.",
		"Tell me a rhyme to pass the time.",
	},
	"jest": {
		"Tell me something funny.", "Do wizards ever laugh?", "Make me smile, old man.",
		"Say something to cheer me up.",
	},
	"people": {
		"What are people really like?", "Why are folk so strange?",
		"Who was the wisest person you ever met?", "What did the famous folk of old say?",
	},
	"paradox": {
		"Tell me a paradox.", "Can you bend my mind a little?", "What is a question with no answer?",
		"Is there anything that cannot be known?",
	},
	"general": {
		"What news, wizard?", "Tell me anything at all.", "What are you thinking about?",
		"Say something surprising.",
	},
	"proverb": {
		"Give me a proverb, wizard.", "What do the old scrolls say?", "Share a saying of the ancients.",
		"What did the wise king write?", "Tell me a proverb for the road.",
	},
	"vanity": {
		"What is the meaning of it all?", "Is there anything new under the sun?",
		"Why do we toil when all things pass?", "Speak to me of time.",
	},
	"dhamma:the pairs":    {"Speak to me of the mind.", "Why does hatred never end?"},
	"dhamma:attention":    {"Why should I stay watchful?", "Tell me about vigilance."},
	"dhamma:thoughts":     {"How do I tame my thoughts?", "My mind wanders. What should I do?"},
	"dhamma:flowers":      {"What can a flower teach me?", "Tell me of flowers and their scent."},
	"dhamma:the fool":     {"What makes a man a fool?", "How do I avoid foolishness?"},
	"dhamma:the wise man": {"How should a wise man live?", "Who is truly wise?"},
	"dhamma:the enlightened": {
		"What is it to be free?", "Tell me of those who are awake.",
	},
	"dhamma:the thousands": {"Is one good word better than a thousand?", "What is worth more than a great victory?"},
	"dhamma:evil":          {"How do I turn from evil?", "Does evil come back to those who do it?"},
	"dhamma:violence":      {"Why should I not strike back?", "Tell me about violence."},
	"dhamma:old age":       {"I am growing old. What do you say?", "What is left when youth is gone?"},
	"dhamma:self":          {"How do I master myself?", "Who should I take care of first?"},
	"dhamma:the world":     {"What is the world, truly?", "How should I see the world?"},
	"dhamma:buddhas":       {"What did the awakened ones teach?", "Tell me of the great teachers."},
	"dhamma:happiness":     {"How do I find happiness?", "What is true joy?"},
	"dhamma:preference":    {"Why does losing what I love hurt so much?", "Should I cling to what I love?"},
	"dhamma:anger":         {"How do I let go of my anger?", "Someone wronged me. What should I do?"},
	"dhamma:faults":        {"How do I see my own faults?", "Why do I notice everyone's faults but mine?"},
	"dhamma:the righteous": {"What makes a person just?", "Who deserves respect?"},
	"dhamma:the way":       {"Which path should I walk?", "What is the right way?"},
	"dhamma:miscellaneous": {"Share one more teaching.", "What else do the sages say?"},
	"dhamma:hell":          {"What brings a man to ruin?", "Tell me of the dark places."},
	"dhamma:the elephant":  {"How do I tame my wild heart?", "What can an elephant teach me?"},
	"dhamma:craving":       {"Why do I always want more?", "How do I stop craving?"},
	"dhamma:the bhikkhu":   {"How does a monk live?", "Tell me of the quiet life."},
	"dhamma:the brahmin":   {"Who is truly noble?", "What makes a person holy?"},
}

// openers may start the wizard's answer.
var openers = []string{
	"Ah, traveller.", "Hmm.", "Listen well.", "Sit by the fire and hear this:", "The old books say:",
	"Heed me, young one.", "I have lived many winters, and I tell you this:", "Well now.",
	"An old saying comes to mind:", "Let me think... yes.", "Hear the words of an old wizard:",
	"Ha! A good question.", "The wind told me once:", "Mark this well:", "Patience, friend.",
	"Long ago, I learned that", "I will tell you what I told the king:", "Hmm, hmm.",
}

// attributions turn a fortune's author into a sentence; %s is the author.
var attributions = []string{
	"So said %s.", "Those are the words of %s.", "%s said that, long ago.", "Or so %s believed.",
}

// closers may end the wizard's answer.
var closers = []string{
	"Now go, and think on it.", "Remember that.", "That is all I will say.", "Off with you now.",
	"Ponder it on the road.", "Make of it what you will.",
}

// riddleOpeners start the answer to a question a fortune itself asks.
var riddleOpeners = []string{"Ha!", "Easy:", "Hmm... I know this one.", "Everyone knows that:", "Why,"}

// greetings can open a conversation.
var greetings = []exchange{
	{"Hello there, old man!", "Well met, traveller. Come in out of the cold."},
	{"Greetings, wizard!", "Greetings to you. Few climb all the stairs of my tower."},
	{"Good day to you.", "And to you. Sit, the kettle is warm."},
	{"Are you the wizard of the tower?", "I am. What brings you so far from the village?"},
	{"Excuse me, may I come in?", "The door opened for you, did it not? Then you may."},
	{"Hi!", "Hello, young one. Mind the cat."},
	{"Hail, wise one.", "Hail. Speak your mind, I have time."},
	{"I seek the old wizard.", "Then your search is over. Ask."},
}

// identity answers questions about the wizard himself.
var identity = []exchange{
	{"Who are you?", "I am Eldric, keeper of this tower, older than the oak outside."},
	{"What is your name, wizard?", "Eldric. The village calls me the Old One, but my name is Eldric."},
	{"How old are you?", "Old enough to forget, young enough to learn. Three hundred winters, more or less."},
	{"Are you a real wizard?", "Does a fish ask if it is wet? Yes, I am Eldric the wizard."},
	{"What do you do up here all day?", "I read, I watch the stars, and I answer travellers like you."},
	{"Where did you learn magic?", "From books, from mistakes, and from a very patient owl."},
}

// farewells can close a conversation.
var farewells = []exchange{
	{"Thank you, wizard. Farewell.", "Farewell, traveller. Walk in the light."},
	{"I must go now.", "Go well, and come back when you have new questions."},
	{"Thanks for your help.", "It was nothing. Wisdom is the only thing that grows when shared."},
	{"Goodbye, old man.", "Goodbye. Mind the stairs on your way down."},
	{"I will remember your words.", "Good. Words are lighter than gold and worth more."},
}
