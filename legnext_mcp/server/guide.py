"""``legnext://guide/parameters``: the prompt parameters by model version, from 04-model-information.md
and 05-image-parameters.md, for the assistant to read before writing flags."""

GUIDE = """# Midjourney prompt parameters on Legnext

Put parameters at the end of the prompt: `a lighthouse at dusk --ar 3:2 --s 250 --v 7`.
Default model: v7. Supported: v6, v6.1, v7, v8, v8.1, niji 6 (`--niji 6`). Use `--v` or `--niji`, not both.

| flag | values | models |
|---|---|---|
| `--ar W:H` | whole numbers only (`--ar 139:100`, not `1.39:1`); default 1:1 | all |
| `--s` / `--stylize` | 0-1000 (default 100) | all |
| `--c` / `--chaos` | 0-100 | all |
| `--w` / `--weird` | 0-3000 | all |
| `--seed` | 0-4294967295 | all |
| `--stop` | 10-100 | v6, v6.1, v7, niji 6 (not v8, v8.1) |
| `--q` / `--quality` | v6: 1,2; v6.1 and niji 6: 0.5,1,2; v7: 1,2,4; v8: 1,4 (4 = 4x cost) | not v8.1 |
| `--raw`, `--tile` | no value | all |
| `--iw` | 0-3, with image URLs at the start of the prompt | all |
| `--no TEXT` | negative prompt | v6.1, v7, v8 (not v6, niji 6, v8.1) |
| `--sref URL`, `--sw 0-1000` | style reference and weight | all |
| `--cref URL`, `--cw` | character reference | v6, v6.1, v7, niji 6 (not v8, v8.1) |
| `--oref URL`, `--ow` | omni reference (2x GPU) | v7, v8 (not v8.1) |
| `--draft` | fast half-cost drafts; needed for `enhance` | v7 only |
| `--exp` | experimental aesthetics | v7, v8, v8.1 |
| `--hd` | native 2K, 4x cost on v8; default (no-op) on v8.1 | v8, v8.1 |
| `--turbo` | 4x faster, 2x cost | not v8, v8.1 |
| `--fast` | default speed | all |

Not supported by the API: `--repeat`, `--personalize`, `{a,b}` permutations, `--stealth`, `--public`,
`--relax`, `--video` (use video_diffusion), `--bs` on images.

Video prompts (video_diffusion, extend_video): `--motion low|high`, `--raw`, `--loop`, `--end IMAGE_URL`,
`--bs 1|2|4` (videos per job, default 4).

Follow-ups (upscale, variation, pan, ...) take a finished job's `job_id` and `image_no` 0-3 and must be
made within 3 days; files are deleted after 30 days. v8/v8.1 images offer no pan, outpaint, inpaint or
upscale. Prices: image jobs 80-120 points, describe/shorten 20, video 480, Topaz 120-540 by resolution.
"""
