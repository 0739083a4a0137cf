"""Shared cases: the arguments of every job tool, the prompt rules, the tool names. One module, so no test
module imports another's tables."""

from __future__ import annotations

from typing import Any

URL = "https://example.com/ref.png"
IMG = "https://example.com/cat.png"
PAID = {"generate_and_wait", "imagine", "upscale", "variation", "reroll", "describe", "shorten", "blend", "pan",
        "outpaint", "inpaint", "remix", "edit", "upload_paint", "retexture", "remove_background", "enhance",
        "enhance_upscale", "video_diffusion", "extend_video", "video_upscale"}
FREE = {"wait_for_job", "get_job", "save_images", "list_jobs", "get_balance", "estimate_cost"}
#: Tools with a handler of their own that are neither: a paid batch, and a picture handed over (writes a file).
OWN = {"imagine_batch", "upload_picture"}


SQUARE = {"width": 1024, "height": 1024, "points": [10, 10, 10, 500, 500, 500, 500, 10]}
CANVAS = {"width": 1024, "height": 1024}
POSITION = {"width": 512, "height": 512, "x": 256, "y": 256}
CALLS: dict[str, Any] = {
    "imagine": lambda p, v: {"prompt": "a fox"},
    "variation": lambda p, v: {"job_id": p, "image_no": 1, "type": "strong"},
    "upscale": lambda p, v: {"job_id": p, "image_no": 2, "type": "creative"},
    "reroll": lambda p, v: {"job_id": p},
    "blend": lambda p, v: {"image_urls": [IMG, "https://example.com/dog.png"], "aspect_ratio": "3:2"},
    "describe": lambda p, v: {"image_url": IMG},
    "shorten": lambda p, v: {"prompt": "a long and wordy prompt about a majestic fox in snow"},
    "pan": lambda p, v: {"job_id": p, "image_no": 0, "direction": "left", "scale": 1.2},
    "outpaint": lambda p, v: {"job_id": p, "image_no": 0, "scale": 1.4},
    "inpaint": lambda p, v: {"job_id": p, "image_no": 0, "areas": [SQUARE], "remix_prompt": "a hat"},
    "remix": lambda p, v: {"job_id": p, "image_no": 0, "remix_prompt": "as a statue", "mode": "subtle"},
    "edit": lambda p, v: {"job_id": p, "image_no": 0, "canvas": CANVAS, "image_position": POSITION,
                          "remix_prompt": "on a beach"},
    "upload_paint": lambda p, v: {"image_url": IMG, "canvas": CANVAS, "image_position": POSITION,
                                  "remix_prompt": "garden", "mask_url": IMG},
    "retexture": lambda p, v: {"image_url": IMG, "remix_prompt": "glass"},
    "remove_background": lambda p, v: {"image_url": IMG},
    "enhance": lambda p, v: {"job_id": p, "image_no": 1},
    "enhance_upscale": lambda p, v: {"job_id": p, "image_no": 0, "target_resolution": "4K"},
    "video_diffusion": lambda p, v: {"job_id": p, "image_no": 0, "video_type": "720p"},
    "extend_video": lambda p, v: {"job_id": v, "video_no": 1},
    "video_upscale": lambda p, v: {"job_id": v, "video_no": 0},
}



#: (rule, accepted prompt, rejected prompt, words the rejection must contain)
RULES: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("length", "a", "x" * 8193, ("1-8192",)),
    ("permutations", "a {red} bird", "a {red,blue} bird", ("permutation",)),
    ("each flag once", "a fox --ar 1:1", "a fox --ar 1:1 --aspect 2:3", ("--ar", "more than once")),
    ("v or niji", "a fox --niji 6", "a fox --v 7 --niji 6", ("--v", "--niji")),
    ("one speed", "a fox --turbo", "a fox --fast --turbo", ("--fast", "--turbo")),
    ("niji version", "a fox --niji", "a fox --niji 5", ("--niji 5", "--niji 6")),
    ("model version", "a fox --v 6.1", "a fox --v 5.2", ("--v 5.2", "8.1")),
    ("glued version", "a fox --v7 --draft", "a fox --v5 --draft", ("--v 5",)),
    ("unknown flag", "a fox --seed 1", "a fox --sharpness 3", ("--sharpness", "known")),
    ("--repeat", "a fox", "a fox --repeat 2", ("--repeat", "not supported")),
    ("--personalize", "a fox --p", "a fox --personalize", ("--personalize", "--p")),
    ("--stealth", "a fox", "a fox --stealth", ("--stealth",)),
    ("--public", "a fox", "a fox --public", ("--public",)),
    ("--video", "a fox", "a fox --video", ("--video", "animate")),
    ("--relax", "a fox --fast", "a fox --relax", ("--relax",)),
    ("--bs on images", "a fox", "a fox --bs 2", ("--bs", "video")),
    ("--sd", "a fox --v 8.1 --hd", "a fox --v 8.1 --sd", ("--sd",)),
    ("v8.1 --q", "a fox --v 8 --q 4", "a fox --v 8.1 --q 2", ("--q", "v8.1")),
    ("v8.1 --cref", "a fox --v 7 --cref " + URL, "a fox --v 8.1 --cref " + URL, ("--cref", "v8.1")),
    ("v8.1 --cw", "a fox --v 6 --cw 50", "a fox --v 8.1 --cw 50", ("--cw", "v8.1")),
    ("v8.1 --oref", "a fox --v 8 --oref " + URL, "a fox --v 8.1 --oref " + URL, ("--oref", "v8.1")),
    ("v8.1 --ow", "a fox --v 7 --ow 100", "a fox --v 8.1 --ow 100", ("--ow", "v8.1")),
    ("v8.1 --no", "a fox --v 8 --no cars", "a fox --v 8.1 --no cars", ("--no", "v8.1")),
    ("v8.1 --turbo", "a fox --v 7 --turbo", "a fox --v 8.1 --turbo", ("--turbo", "v8.1")),
    ("v8 --turbo", "a fox --v 6 --turbo", "a fox --v 8 --turbo", ("--turbo", "v8")),
    ("v8 --stop", "a fox --v 7 --stop 50", "a fox --v 8 --stop 50", ("--stop", "v8")),
    ("v8.1 --stop", "a fox --niji 6 --stop 50", "a fox --v 8.1 --stop 50", ("--stop", "v8.1")),
    ("draft only v7", "a fox --v 7 --draft", "a fox --v 6.1 --draft", ("--draft", "v6.1", "v7")),
    ("draft not v8", "a fox --draft", "a fox --v 8 --draft", ("--draft", "v8")),
    ("hd only v8 family", "a fox --v 8 --hd", "a fox --v 7 --hd", ("--hd", "v7")),
    ("exp versions", "a fox --v 8 --exp", "a fox --v 6 --exp", ("--exp", "v6")),
    ("exp range", "a fox --exp 100", "a fox --exp 101", ("--exp", "0-100")),
    ("no on v6", "a fox --v 6.1 --no cars", "a fox --v 6 --no cars", ("--no", "v6")),
    ("no on niji", "a fox --v 7 --no cars", "a fox --niji 6 --no cars", ("--no", "niji 6")),
    ("oref versions", "a fox --v 7 --oref " + URL, "a fox --v 6.1 --oref " + URL, ("--oref", "v6.1")),
    ("cref on v8", "a fox --v 6 --cref " + URL, "a fox --v 8 --cref " + URL, ("--cref", "v8")),
    ("p versions", "a fox --v 8.1 --p", "a fox --niji 6 --p", ("--p", "niji 6")),
    ("stylize range", "a fox --s 1000", "a fox --s 1001", ("--s", "0-1000")),
    ("chaos range", "a fox --chaos 100", "a fox --chaos 101", ("--chaos", "0-100")),
    ("weird range", "a fox --w 3000", "a fox --w 3001", ("--w", "0-3000")),
    ("seed range", "a fox --seed 4294967295", "a fox --seed 4294967296", ("--seed",)),
    ("seed is whole", "a fox --seed 0", "a fox --seed 1.5", ("--seed", "whole number")),
    ("stop range", "a fox --stop 10", "a fox --stop 9", ("--stop", "10-100")),
    ("iw range", "a fox --iw 2.5", "a fox --iw 3.5", ("--iw", "0-3")),
    ("sw range", "a fox --sref " + URL + " --sw 1000", "a fox --sw 1001", ("--sw",)),
    ("cw range", "a fox --cw 100", "a fox --cw 101", ("--cw",)),
    ("ow range", "a fox --ow 1000", "a fox --ow 1001", ("--ow",)),
    ("quality v6", "a fox --v 6 --q 2", "a fox --v 6 --q 0.5", ("--q 0.5", "v6", "1, 2")),
    ("quality v6.1", "a fox --v 6.1 --q 0.5", "a fox --v 6.1 --q 4", ("--q 4", "v6.1")),
    ("quality v7", "a fox --q 4", "a fox --q 0.5", ("--q 0.5", "v7")),
    ("quality v8", "a fox --v 8 --q 1", "a fox --v 8 --q 2", ("--q 2", "v8")),
    ("aspect integers", "a fox --ar 139:100", "a fox --ar 1.39:1", ("--ar", "whole numbers", "139:100")),
    ("aspect not zero", "a fox --ar 16:9", "a fox --ar 0:9", ("--ar",)),
    ("switch has no value", "a fox --tile", "a fox --tile please", ("--tile", "no value")),
    ("oref and turbo", "a fox --oref " + URL, "a fox --oref " + URL + " --turbo", ("--oref", "--turbo")),
    ("oref and q 4", "a fox --q 4", "a fox --oref " + URL + " --q 4", ("--oref", "--q 4")),
    ("style raw only", "a fox --style raw", "a fox --style cute", ("--style", "raw")),
    ("style version", "a fox --v 8 --sv 6", "a fox --v 7 --sv 6", ("--sv", "v7")),
    ("reference needs value", "a fox --sref " + URL, "a fox --sref", ("--sref", "value")),
    ("cref takes URLs", f"a fox --cref {URL} {URL}::2", "a fox --cref example.com/a.png", ("--cref", "example.com")),
    ("oref takes one URL", f"a fox --oref {URL}", f"a fox --oref {URL} {URL}", ("--oref", "one image URL")),
    ("references are http(s)", "a fox --sref 1234567 --sw 50", "a fox --sref javascript:alert(1)",
     ("--sref", "javascript")),
]
VIDEO_RULES: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("video motion", f"{URL} a wave --motion high", f"{URL} a wave --motion 3", ("--motion", "low, high")),
    ("video batch", f"{URL} a wave --bs 2 --loop", f"{URL} a wave --bs 3", ("--bs", "1, 2, 4")),
    ("video flags only", f"{URL} a wave --raw --end {URL}", f"{URL} a wave --ar 16:9", ("--ar", "video")),
    ("video speed modes", f"{URL} a wave --turbo --bs 1", f"{URL} a wave --fast --turbo", ("--fast", "--turbo")),
    ("video end frame is a URL", f"{URL} a wave --end {URL}", f"{URL} a wave --end file:///etc/passwd", ("--end",)),
]
