"""Known synthetic talks: paragraphs whose kind and topic the tests know."""

from __future__ import annotations

GREETING = "Hey everyone, welcome back to the channel. It is so good to see you all here again."
HOUSEKEEPING = (
    "Before we begin, please like and subscribe and hit the bell. All the links are in the description below."
)
SPONSOR = (
    "Today's video is sponsored by Nord Widgets. Use code WIDGET for twenty percent off your first order."
)
DISFLUENCY = "Um, where was I? Okay."
OUTRO = "Thanks for watching, and see you next week. Bye for now!"

PRICING = (
    "Here's the mistake almost every founder makes with pricing. They charge far too little. When I launched "
    "my first software product, I priced it at nine dollars a month because I was scared. Nobody took it "
    "seriously. Then I raised the price to ninety nine dollars and sales actually went up. Customers told me "
    "the higher price made them trust us more. The lesson is simple. Price is a signal of value, so charge "
    "for the outcome you deliver, not for your costs."
)
SLEEP = (
    "Here is why sleep matters more for your memory than any study trick. While you sleep, your brain replays "
    "everything you learned during the day. Deep sleep moves those memories from short term storage into long "
    "term storage. In one experiment, students who slept after learning remembered forty percent more than "
    "students who stayed awake. So the next time you want to pull an all nighter before an exam, remember "
    "this. Sleeping is part of studying."
)
COOKING = (
    "Let me tell you about the worst dinner party of my life. I wanted to impress my new neighbours, so I "
    "tried to cook a whole turkey for the very first time. I forgot to take the bag of giblets out, the oven "
    "started smoking, and the fire alarm went off just as the guests arrived. We ended up eating cereal on "
    "the balcony, laughing until we cried. Honestly, it was the best party we ever had."
)
ELECTION_1 = (
    "The election last autumn surprised almost every pollster in the country. Turnout among young voters "
    "doubled, and the polls had assumed they would stay home. The lesson for forecasters is that the election "
    "models were tuned to the last race, not this one."
)
GARDEN = (
    "My garden has taught me more about patience than any book. Tomatoes need full sun and steady water, and "
    "if you rush them they split. Every spring I plant the seedlings a little deeper, and every summer the "
    "harvest is a little better than the year before."
)
ELECTION_2 = (
    "Back to the election for a moment. The winning campaign spent almost nothing on television and put every "
    "dollar into local volunteers knocking on doors. When the election results came in, the districts with the "
    "most volunteers had the biggest swings."
)

# (kind, topic, text) in speaking order.
TALK: list[tuple[str, str, str]] = [
    ("filler", "greeting", GREETING),
    ("filler", "housekeeping", HOUSEKEEPING),
    ("filler", "sponsor", SPONSOR),
    ("content", "pricing", PRICING),
    ("filler", "disfluency", DISFLUENCY),
    ("content", "sleep", SLEEP),
    ("filler", "disfluency", DISFLUENCY),
    ("content", "cooking", COOKING),
    ("content", "election", ELECTION_1),
    ("content", "garden", GARDEN),
    ("content", "election", ELECTION_2),
    ("filler", "outro", OUTRO),
]
