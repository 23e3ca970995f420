from ._clipcaer import (BatchPrediction as BatchPrediction, Model as Model, Prediction as Prediction,
                        TextHead as TextHead, Tokenizer as Tokenizer, __version__ as __version__,
                        combine_heads as combine_heads, cuda_devices as cuda_devices, jpeg_decoder as jpeg_decoder,
                        kernel_sets as kernel_sets, load_clip as load_clip, preprocess as preprocess,
                        video_decoder as video_decoder)
