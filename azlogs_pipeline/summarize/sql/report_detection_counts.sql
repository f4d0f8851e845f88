-- Report: detections per kind (all hours of `signin_detections`).
SELECT detection, count(*) AS detections
FROM signin_detections
GROUP BY detection
