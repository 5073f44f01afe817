//! Feedbacks: keypoint MSE against the mean baseline, and the Kaggle submission writer.
