"""Stream: a brook of many small van den Doel bubbles over a babbling bed.

Running water is mostly bubbles: a dense texture of small ones (radii 0.35-1.5 mm, a
couple of thousand a second) forms the bright fizz, a babbling bed (noise through a few
resonant bands whose centres hop around 250-2500 Hz every few tens of milliseconds)
forms the gurgle, and a sparser foreground of larger bubbles, each placed on its own
across the stereo field, gives the plinks and blops. The flow swells gently and slowly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..base import CHUNK_FRAMES, SAMPLE_RATE, ChunkRequest, Trigger, chunk_rng
from ..cache import shared_cache
from ..events import (
    BANK_FRAMES,
    CONTROL_HOP,
    BubbleSizes,
    Foreground,
    GrainSet,
    Swell,
    bed_segment,
    chunk_curve,
    event_buffer,
    noise_spectrum,
    poisson_times,
    ramp,
    scatter_events,
    shaped_noise,
    texture,
    with_wrap,
)
from ..recipe import Band, Count, NoiseBand, Range


@dataclass(frozen=True, kw_only=True, slots=True)
class Babble:
    """The gurgle: noise through a few resonant bands whose centres hop about."""

    hop: int
    """Frames between the short-time frames the babble is built from."""

    bands: int
    """Resonant bands sounding at once."""

    hold_frames: Count
    """How many frames a band's centre stays before it hops."""

    centres: Band
    """Where the centres land, in Hz (drawn evenly in octaves)."""

    glide_octaves: Range
    """How far a centre glides while it stays, in octaves."""

    level: Range
    """Level of a band while it stays (linear)."""

    width_octaves: Range
    """Width (standard deviation) of a band, in octaves."""

    floor: NoiseBand
    """The faint wash under the bands."""

    floor_level: float
    """Level of that wash against a band (linear)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class StreamRecipe:
    """A brook: bubbles over a babbling bed, swelling with the flow."""

    flow: Swell
    """The flow's slow swell (bubble rate and bed level together)."""

    fizz: BubbleSizes
    """The small bubbles of the bright fizz."""

    fizz_per_s: float
    """Small bubbles per second in the fizz texture."""

    plinks: BubbleSizes
    """The larger bubbles of the foreground's plinks and blops."""

    foreground: Foreground
    """The larger bubbles, each placed on its own."""

    babble: Babble
    """The gurgle of the bed."""

    wash: NoiseBand
    """The low wash of the bed."""

    bed_mix: tuple[float, float, float]
    """Levels of babble, fizz and wash in the bed (linear)."""

    bed_gain: float
    """Level of the bed (linear)."""


RECIPE = StreamRecipe(
    # The flow swells gently and slowly: a rate factor of about 0.7-1.4.
    flow=Swell(octaves=0.5, periods_s=(19.0, 8.3, 4.1)),
    # Running water is mostly small bubbles (radii 0.35-1.5 mm), a couple of thousand a
    # second: the bright fizz.
    fizz=BubbleSizes(
        count=256, low_m=0.35e-3, high_m=1.5e-3, grain_frames=2048, floor_db=-40.0
    ),
    fizz_per_s=2200.0,
    # Larger bubbles (0.5-3.2 mm, more small than large) give the plinks and blops.
    plinks=BubbleSizes(
        count=384,
        low_m=0.5e-3,
        high_m=3.2e-3,
        skew=1.3,
        grain_frames=4096,
        floor_db=-32.0,
    ),
    # 90 a second at middle flow, their levels spread over about +-4 dB.
    foreground=Foreground(per_s=90.0, gain=0.08 * 0.97, spread=0.45, clip=(0.3, 2.0)),
    babble=Babble(
        # 5.3 ms frames: a band can hop within a syllable of the water's chatter.
        hop=256,
        bands=3,
        # Centres hop every 3-11 frames (16-59 ms) and glide a little in between.
        hold_frames=Count(low=3, high=11),
        centres=Band(low_hz=250.0, high_hz=2500.0),
        glide_octaves=Range(low=-0.4, high=0.6),
        level=Range(low=0.3, high=1.0),
        width_octaves=Range(low=0.12, high=0.3),
        floor=NoiseBand(band=Band(low_hz=200.0, high_hz=6000.0)),
        floor_level=0.04,
    ),
    # The low wash of water moving over stones.
    wash=NoiseBand(band=Band(low_hz=80.0, high_hz=700.0), tilt_db_per_octave=-3.0),
    # The gurgle leads; fizz and wash sit under it.
    bed_mix=(1.0, 0.55, 0.35),
    # Levels are set so that the stream plays at its working level (0.97 of the
    # calibration's reference) before the table's gain.
    bed_gain=0.05 * 0.97,
)
"""The stream every scene plays."""

BUBBLES_PER_S = RECIPE.foreground.per_s
"""Foreground bubbles per second at middle flow."""

FIZZ_PER_S = RECIPE.fizz_per_s
"""Small bubbles per second in the fizz texture."""

_SALT = "stream"


@shared_cache(maxsize=1)
def _bubbles() -> dict[str, GrainSet]:
    """Build the bubble sets once: small ones for the fizz, larger ones for the foreground."""
    rng = np.random.default_rng(0x57EA)
    small = RECIPE.fizz.radii(rng)
    large = RECIPE.plinks.radii(rng)
    return {
        "small": RECIPE.fizz.grains_of(small, rng),
        "large": RECIPE.plinks.grains_of(large, rng),
    }


def _babble(frames: int, seed: int) -> NDArray[np.float32]:
    """Return circular babbling noise: resonant bands hopping about, one STFT frame each."""
    b = RECIPE.babble
    rng = np.random.default_rng(seed)
    hop = b.hop
    size = 2 * hop
    n_frames = frames // hop
    freqs = np.asarray(np.fft.rfftfreq(size, 1.0 / SAMPLE_RATE), dtype=np.float64)
    log_f = np.log2(np.maximum(freqs, 1.0))
    # Centres hop every 3-12 frames (16-64 ms) and glide a little in between.
    mag = np.zeros((n_frames, freqs.size))
    low, high = np.log2(b.centres.low_hz), np.log2(b.centres.high_hz)
    for _ in range(b.bands):
        hold = b.hold_frames.draw(rng, n_frames)
        changes = np.cumsum(hold)
        idx = np.searchsorted(changes, np.arange(n_frames), side="right")
        centres = low + (high - low) * rng.random(idx.max() + 1)
        glide = b.glide_octaves.draw(rng, idx.max() + 1)
        local = (np.arange(n_frames) - np.concatenate([[0], changes])[idx]) / hold[idx]
        centre = centres[idx] + glide[idx] * local
        level = b.level.draw(rng, idx.max() + 1)[idx]
        width = b.width_octaves.draw(rng, idx.max() + 1)[idx]
        mag += level[:, None] * np.exp(
            -0.5 * ((log_f[None, :] - centre[:, None]) / width[:, None]) ** 2
        )
    mag += b.floor_level * noise_spectrum(b.floor)(freqs)[None, :]
    spectra = rng.standard_normal(mag.shape) + 1j * rng.standard_normal(mag.shape)
    grains = np.fft.irfft(spectra * mag, size, axis=1)
    window = np.sin(np.pi * (np.arange(size) + 0.5) / size)
    grains *= window
    out = np.zeros(frames + size)
    for half in range(2):
        part = grains[:, half * hop : (half + 1) * hop]
        out[half * hop : half * hop + n_frames * hop] += part.reshape(-1)
    out[:size] += out[frames : frames + size]
    y = out[:frames]
    y -= y.mean()
    return np.asarray(y / np.sqrt(np.mean(y * y)), dtype=np.float32)


@shared_cache(maxsize=1)
def _bed() -> NDArray[np.float32]:
    """Build the stream's bed once: babble, fizz of small bubbles and a low wash."""
    sets = _bubbles()
    fizz = texture([(sets["small"], FIZZ_PER_S, 1.0)], seed=32)[:BANK_FRAMES]
    wash = shaped_noise(BANK_FRAMES, noise_spectrum(RECIPE.wash), seed=33)
    babble, fizz_level, wash_level = RECIPE.bed_mix
    mix = babble * _babble(BANK_FRAMES, 31) + fizz_level * fizz + wash_level * wash
    return with_wrap((mix / np.sqrt(np.mean(mix * mix))).astype(np.float32))


def _flow(seed: int, t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the flow (rate factor, about 0.7-1.4) at absolute times: slow and gentle."""
    return RECIPE.flow.at(t, seed=seed, salt=_SALT)


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render one chunk of a babbling stream.

    Parameters
    ----------
    request
        Seed and chunk index (placement is ignored: the stream is wide).

    Returns
    -------
    NDArray[np.float32]
        ``(n, 2)`` float32 chunk buffer, as long as its sounds ring (``event_buffer``).

    """
    rng = chunk_rng(request.seed, _SALT, request.index)
    large = _bubbles()["large"]
    out = event_buffer(large)
    flow = chunk_curve(_flow, request.seed, request.index)
    bed_segment(out, _bed(), rng, ramp(np.sqrt(flow) * RECIPE.bed_gain))
    starts = poisson_times(rng, BUBBLES_PER_S * flow[: CHUNK_FRAMES // CONTROL_HOP + 1])
    n = starts.size
    scatter_events(
        out,
        large.events(
            rng.integers(0, large.size, n),
            starts,
            RECIPE.foreground.levels(rng, n),
            rng.uniform(-1.0, 1.0, n),
        ),
    )
    return out.T


TRIGGER = Trigger(id="stream", name="Stream", close=False, render_chunk=render_chunk)
