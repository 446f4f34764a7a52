"""Synthesises the chimes that announce a new order: ``python -m orders.chime``.

The usual chime is two bell-like notes (a fifth apart, each a sine with a few
harmonics and an exponential decay); the urgent one, for an order still new
after five minutes, rings the pair three times at full scale. 16-bit mono WAV,
a few dozen kB. Generated rather than copied so that the product ships no
third-party media; the output is committed in static/sounds/ so a fresh clone
needs no build step.
"""

import math
import struct
import sys
import wave
from pathlib import Path

RATE = 22_050
SOUNDS = Path(__file__).resolve().parent.parent / "static" / "sounds"
OUTPUT = SOUNDS / "new-order.wav"
URGENT_OUTPUT = SOUNDS / "new-order-urgent.wav"
# (start in s, frequency in Hz, duration in s): E6 then B6, bright enough to cut through a kitchen's noise.
NOTES = ((0.0, 1318.5, 0.30), (0.14, 1975.5, 0.36))
URGENT_NOTES = tuple((start + repeat * 0.42, frequency, duration) for repeat in range(3) for start, frequency, duration in NOTES)
HARMONICS = ((1, 1.0), (2, 0.35), (3, 0.12))
PEAK = 0.6
URGENT_PEAK = 0.95


def samples(notes=NOTES, peak: float = PEAK) -> list[float]:
    length = max(start + duration for start, _, duration in notes)
    signal = [0.0] * int(length * RATE)
    for start, frequency, duration in notes:
        first = int(start * RATE)
        for n in range(int(duration * RATE)):
            t = n / RATE
            # A 5 ms attack avoids a click; the decay makes it a bell rather than a beep.
            envelope = min(1.0, t / 0.005) * math.exp(-t * 9)
            tone = sum(weight * math.sin(2 * math.pi * frequency * harmonic * t) for harmonic, weight in HARMONICS)
            if first + n < len(signal):
                signal[first + n] += envelope * tone
    loudest = max(abs(value) for value in signal)
    return [value / loudest * peak for value in signal]


def write(path: Path = OUTPUT, notes=NOTES, peak: float = PEAK) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(b"".join(struct.pack("<h", round(value * 32767)) for value in samples(notes, peak)))
    return path


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else SOUNDS
    print(write(folder / OUTPUT.name))
    print(write(folder / URGENT_OUTPUT.name, URGENT_NOTES, URGENT_PEAK))
