"""The planted personas of the synthetic music shop, its catalogue vocabulary and phrase banks.

Every persona differs from the others in five ways: category mix, price-tier preference,
activity level, vocabulary (a persona-specific phrase bank) and sentiment (rating
distribution). The banks overlap on purpose: a shared generic bank, shared words inside the
persona banks ("sound", "tone", "price") and off-persona phrases make text alone an imperfect
signal; the category mixes overlap so behaviour alone is imperfect too.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AGE_BANDS",
    "CATEGORIES",
    "GENERIC_PHRASES",
    "PERSONAS",
    "REGIONS",
    "SENTIMENT_PHRASES",
    "TIERS",
    "Persona",
]

#: Top-level shop categories (column order of every category-mix vector).
CATEGORIES: tuple[str, ...] = (
    "guitars",
    "basses",
    "keyboards",
    "drums",
    "recording",
    "accessories",
    "dj",
    "books",
)
TIERS: tuple[str, ...] = ("budget", "mid", "premium")
AGE_BANDS: tuple[str, ...] = ("18-24", "25-34", "35-44", "45-54", "55+")
REGIONS: tuple[str, ...] = ("north", "south", "east", "west", "central")

#: category -> (product nouns, brands, base price in the mid tier)
CATALOGUE: dict[str, tuple[tuple[str, ...], tuple[str, ...], float]] = {
    "guitars": (
        (
            "electric guitar",
            "acoustic guitar",
            "semi-hollow guitar",
            "classical guitar",
            "travel guitar",
            "guitar amp",
            "overdrive pedal",
            "delay pedal",
        ),
        ("Fendel", "Gibsonite", "Ibanova", "Yamoto", "Epiphane", "Gretchen"),
        450.0,
    ),
    "basses": (
        ("bass guitar", "fretless bass", "bass amp", "bass combo", "short-scale bass"),
        ("Fendel", "Musicmen", "Warwood", "Ibanova", "Sire"),
        520.0,
    ),
    "keyboards": (
        (
            "digital piano",
            "synthesizer",
            "stage piano",
            "midi keyboard",
            "workstation",
            "analog synth",
        ),
        ("Korgan", "Rolland", "Nordic", "Kawaii", "Arturio", "Casiox"),
        650.0,
    ),
    "drums": (
        (
            "snare drum",
            "drum kit",
            "cymbal pack",
            "bass drum pedal",
            "electronic kit",
            "drum throne",
            "tom set",
        ),
        ("Pearlman", "Tamba", "Zildjan", "Sabion", "Ludwick", "Alesys"),
        380.0,
    ),
    "recording": (
        (
            "audio interface",
            "condenser mic",
            "studio monitor",
            "preamp",
            "headphone set",
            "compressor",
            "dynamic mic",
        ),
        ("Focusrite", "Neumarr", "Shurely", "Universel", "Presonic", "Audiotechna"),
        420.0,
    ),
    "accessories": (
        (
            "string set",
            "instrument cable",
            "gig bag",
            "tuner",
            "capo",
            "stand",
            "pick pack",
            "strap",
            "drumstick pair",
        ),
        ("D'Addison", "Ernie Ball-ish", "Dunlop", "Planet Wave", "Gator", "Vic Fourth"),
        25.0,
    ),
    "dj": (
        ("dj controller", "turntable", "dj mixer", "sampler", "groovebox", "dj headphone set"),
        ("Pioneir", "Numarc", "Denonn", "Native Inst", "Technix", "Rane-o"),
        480.0,
    ),
    "books": (
        (
            "songbook",
            "method book",
            "theory book",
            "chord dictionary",
            "video course",
            "sheet music",
        ),
        ("Hal Leonardo", "Alfredo", "Berkley Press", "Schott-ish", "Faber"),
        22.0,
    ),
}

ADJECTIVES: tuple[str, ...] = (
    "Classic",
    "Pro",
    "Studio",
    "Vintage",
    "Deluxe",
    "Standard",
    "Compact",
    "Signature",
    "Custom",
    "Road",
    "Player",
    "Elite",
    "Mini",
    "Performer",
    "Essential",
)

#: Shared by every persona: generic shop talk (the vocabulary that does not separate anyone).
GENERIC_PHRASES: tuple[str, ...] = (
    "Shipping was fast and the box arrived in one piece.",
    "Arrived two days after ordering.",
    "The {noun} looks exactly like the pictures.",
    "Packaging could have been better.",
    "Customer service answered my question quickly.",
    "Good value for the price overall.",
    "Would buy from this shop again.",
    "It does what it says on the box.",
    "The build quality of the {noun} feels solid.",
    "Took a while to set up but it works fine now.",
    "My second purchase from {brand}.",
    "The manual is short but clear enough.",
    "Nothing special, nothing wrong either.",
    "The sound is decent for what it is.",
    "I compared a few options before picking this {noun}.",
    "Honestly a pretty standard {noun}.",
)

#: rating bucket -> sentences (1-2 negative, 3 mixed, 4-5 positive)
SENTIMENT_PHRASES: dict[str, tuple[str, ...]] = {
    "neg": (
        "Sadly it broke within a month.",
        "Very disappointed, I am sending the {noun} back.",
        "Not worth the money at all.",
        "Quality control is poor on this one.",
        "It stopped working after a few weeks.",
        "Would not recommend this {noun}.",
    ),
    "mid": (
        "It is okay but I expected a bit more.",
        "Mixed feelings about this {noun}.",
        "Fine for now, might upgrade later.",
        "Some good points, some annoying ones.",
        "Average, does the job.",
    ),
    "pos": (
        "Really happy with this {noun}.",
        "Love it, five stars from me.",
        "Exceeded my expectations.",
        "Highly recommend this {noun}.",
        "Great purchase, no regrets.",
        "Sounds fantastic and feels great.",
    ),
}


@dataclass(frozen=True)
class Persona:
    """One planted user type. Probabilities follow :data:`CATEGORIES`, :data:`TIERS`, ..."""

    name: str
    share: float  # share of the user population
    category_mix: tuple[float, ...]  # over CATEGORIES
    tier_pref: tuple[float, ...]  # over TIERS (price sensitivity)
    sessions_median: float  # lognormal activity: median browsing sessions per user
    conversion: float  # multiplier on the cart -> purchase probability
    review_propensity: float  # multiplier on the review rate
    ratings: tuple[float, ...]  # P(rating = 1..5)
    phrases: tuple[str, ...]  # persona-specific vocabulary
    age_pref: tuple[float, ...]  # over AGE_BANDS
    region_pref: tuple[float, ...]  # over REGIONS


PERSONAS: tuple[Persona, ...] = (
    Persona(
        "budget_beginner",
        0.20,
        (0.46, 0.05, 0.10, 0.04, 0.02, 0.13, 0.02, 0.18),
        (0.82, 0.16, 0.02),
        9.0,
        0.9,
        1.0,
        (0.06, 0.08, 0.18, 0.38, 0.30),
        (
            "I am just starting out and this {noun} is perfect for learning.",
            "Cheap enough that I did not feel guilty buying it.",
            "My teacher recommended a {noun} like this for beginners.",
            "Easy to play even for a total newbie like me.",
            "Great first {noun} on a tight budget.",
            "I watched a few tutorials and could use it right away.",
            "For a student budget this is hard to beat.",
            "Still practicing my first chords with it.",
            "Affordable and good enough to learn on.",
            "Did not want to spend much before knowing if I stick with it.",
            "Lessons are going well thanks to this {noun}.",
            "Simple to tune, which helps a beginner a lot.",
        ),
        (0.40, 0.30, 0.15, 0.10, 0.05),
        (0.2, 0.2, 0.2, 0.2, 0.2),
    ),
    Persona(
        "studio_engineer",
        0.14,
        (0.03, 0.02, 0.08, 0.02, 0.70, 0.07, 0.06, 0.02),
        (0.05, 0.30, 0.65),
        18.0,
        1.1,
        1.3,
        (0.08, 0.12, 0.25, 0.35, 0.20),
        (
            "The noise floor is low and the preamps are clean.",
            "Latency in my DAW is excellent at small buffer sizes.",
            "I use the {noun} for tracking vocals and mixing.",
            "Frequency response is flat enough for critical listening.",
            "Integrates well with my existing studio signal chain.",
            "Headroom is good and the converters sound transparent.",
            "Great for mixing and mastering sessions.",
            "The phantom power is stable and the gain staging is easy.",
            "Driver support is solid on both macOS and Windows.",
            "Imaging and transient detail are impressive.",
            "I recorded a full album with this {noun} already.",
            "Balanced outputs and proper metering make a difference.",
        ),
        (0.05, 0.35, 0.35, 0.15, 0.10),
        (0.15, 0.15, 0.15, 0.35, 0.20),
    ),
    Persona(
        "gigging_drummer",
        0.14,
        (0.02, 0.03, 0.01, 0.74, 0.04, 0.13, 0.01, 0.02),
        (0.20, 0.65, 0.15),
        12.0,
        1.0,
        1.0,
        (0.07, 0.10, 0.20, 0.35, 0.28),
        (
            "Survived three gigs this weekend without a problem.",
            "The heads hold their tuning through a whole set.",
            "Sticks feel balanced and rebound nicely.",
            "Loud enough to cut through a band on a small stage.",
            "Easy to pack into the van after a show.",
            "The hardware is sturdy enough for touring.",
            "Great attack and a nice crash on the cymbals.",
            "Our rehearsals sound much tighter now.",
            "Quick to set up at the venue before soundcheck.",
            "Playing live every week and this {noun} keeps up.",
            "Good groove and feel under the feet.",
            "My bandmates noticed the difference at the last gig.",
        ),
        (0.20, 0.40, 0.25, 0.10, 0.05),
        (0.15, 0.35, 0.15, 0.20, 0.15),
    ),
    Persona(
        "vintage_collector",
        0.12,
        (0.55, 0.28, 0.06, 0.03, 0.02, 0.03, 0.01, 0.02),
        (0.02, 0.13, 0.85),
        8.0,
        0.8,
        1.5,
        (0.15, 0.18, 0.27, 0.25, 0.15),
        (
            "The finish and craftsmanship remind me of the old models.",
            "Reminds me of the originals from the sixties and seventies.",
            "Nitro finish is ageing beautifully.",
            "A proper heirloom piece for my collection.",
            "The pickups have that warm vintage character.",
            "Serial number and paperwork were all in order.",
            "Collectors will appreciate the attention to period detail.",
            "Tonewood quality is outstanding on this {noun}.",
            "Not cheap, but classic gear holds its value.",
            "Hardware feels like the reissues I already own.",
            "The case smells like an old guitar shop, in a good way.",
            "Authentic vintage vibe, worth the premium.",
        ),
        (0.02, 0.08, 0.20, 0.35, 0.35),
        (0.15, 0.15, 0.20, 0.15, 0.35),
    ),
    Persona(
        "dj_producer",
        0.14,
        (0.01, 0.02, 0.10, 0.03, 0.14, 0.04, 0.64, 0.02),
        (0.30, 0.60, 0.10),
        15.0,
        1.0,
        1.1,
        (0.08, 0.10, 0.22, 0.35, 0.25),
        (
            "Beat matching is smooth and the jog wheels feel tight.",
            "Works great with my mixing software for club sets.",
            "Perfect for producing beats and live sampling.",
            "The pads are responsive enough for finger drumming.",
            "Mapped it to my DAW in minutes for house and techno tracks.",
            "Bass response is punchy when I play out.",
            "I use the {noun} every night for streaming my sets.",
            "Effects section is fun for transitions and drops.",
            "Sync and tempo detection are reliable.",
            "Made three new tracks with it this week.",
            "The crossfader is smooth and durable.",
            "Club ready and easy to carry to a booth.",
        ),
        (0.35, 0.40, 0.15, 0.07, 0.03),
        (0.20, 0.15, 0.30, 0.20, 0.15),
    ),
    Persona(
        "gift_buyer",
        0.14,
        (0.10, 0.03, 0.08, 0.05, 0.03, 0.34, 0.04, 0.33),
        (0.30, 0.60, 0.10),
        6.0,
        1.4,
        0.8,
        (0.03, 0.05, 0.12, 0.35, 0.45),
        (
            "Bought this {noun} as a birthday present for my son.",
            "My daughter loved it as a Christmas gift.",
            "I do not play myself but the recipient was thrilled.",
            "Gift wrapping option was a nice touch.",
            "Got it for my husband who plays in a band.",
            "The kids were so happy when they opened it.",
            "Ordered it as a present and it arrived just in time.",
            "My nephew says it is exactly what he wanted.",
            "A great surprise for my partner.",
            "Easy gift idea for a musician friend.",
            "Grandson uses it every day now.",
            "I knew nothing about music gear but this was a safe bet.",
        ),
        (0.05, 0.25, 0.35, 0.20, 0.15),
        (0.25, 0.20, 0.15, 0.20, 0.20),
    ),
    Persona(
        "keys_composer",
        0.12,
        (0.02, 0.01, 0.66, 0.02, 0.12, 0.05, 0.02, 0.10),
        (0.15, 0.55, 0.30),
        10.0,
        1.0,
        1.2,
        (0.06, 0.10, 0.22, 0.37, 0.25),
        (
            "The weighted keys feel close to an acoustic grand.",
            "I compose film scores with this {noun} every day.",
            "Polyphony is plenty for layered orchestral pieces.",
            "Great for practicing classical repertoire and sight reading.",
            "The piano samples are expressive at soft dynamics.",
            "Sustain pedal response is natural and smooth.",
            "Writing chord progressions and arrangements is a joy.",
            "Perfect companion for harmony and counterpoint study.",
            "I score my compositions right after improvising on it.",
            "Velocity curves can be adjusted to my touch.",
            "Lovely for practicing scales and etudes.",
            "My piano teacher approved the action.",
        ),
        (0.10, 0.20, 0.25, 0.25, 0.20),
        (0.20, 0.20, 0.20, 0.20, 0.20),
    ),
)
